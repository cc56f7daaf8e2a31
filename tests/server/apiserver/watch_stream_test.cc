// WatchStream with selectors: objects entering and leaving the selection, and an update's
// previous state evaluated once, not again for the event after.
#include "src/server/apiserver/watch_stream.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "src/server/json/json_util.h"
#include "src/store/memory_store.h"

namespace kite::apiserver {
namespace {

// "type name" of each event line Poll produced.
std::vector<std::string> Events(WatchStream& stream) {
  std::string out;
  stream.Poll(out);
  std::vector<std::string> events;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    Result<rapidjson::Document> event = json::ParseJsonObject(std::string_view(out).substr(start, end - start));
    REQUIRE(event.ok());
    start = end + 1;
    std::string type(json::StringMember(*event, "type"));
    if (type == "BOOKMARK") continue;
    const rapidjson::Value& object = (*event)["object"];
    events.push_back(type + " " + std::string(json::StringMember(object, "node")));
  }
  return events;
}

std::string Pod(const std::string& node) { return R"({"metadata":{"name":"p"},"node":")" + node + "\"}"; }

TEST_CASE("WatchStream: objects enter and leave the selection; each state is evaluated once", "[watch]") {
  store::MemoryStore kv;
  int evaluations = 0;
  WatchOptions options;
  options.filter = [&](const rapidjson::Value& object) {
    ++evaluations;
    return json::StringMember(object, "node").starts_with("a");
  };
  Result<std::unique_ptr<store::Watcher>> watcher = kv.Watch("/pods/", 0);
  REQUIRE(watcher.ok());
  WatchStream stream(std::move(watcher).value(), std::move(options));
  stream.Start([] {});

  int64_t rev = *kv.Create("/pods/p", Pod("a1"));
  rev = *kv.Update("/pods/p", Pod("a2"), rev);
  rev = *kv.Update("/pods/p", Pod("b1"), rev);
  rev = *kv.Update("/pods/p", Pod("b2"), rev);
  rev = *kv.Update("/pods/p", Pod("a3"), rev);
  REQUIRE(kv.Delete("/pods/p", rev).ok());
  CHECK(Events(stream) ==
        std::vector<std::string>{"ADDED a1", "MODIFIED a2", "DELETED a2", "ADDED a3", "DELETED a3"});
  // One evaluation per event: the previous states were the ones this stream had just seen.
  CHECK(evaluations == 6);

  SECTION("a stream that did not see the previous state evaluates it") {
    rev = *kv.Create("/pods/p", Pod("a1"));
    WatchOptions late;
    int late_evaluations = 0;
    late.filter = [&](const rapidjson::Value& object) {
      ++late_evaluations;
      return json::StringMember(object, "node").starts_with("a");
    };
    Result<std::unique_ptr<store::Watcher>> w = kv.Watch("/pods/", rev);
    REQUIRE(w.ok());
    WatchStream from_now(std::move(w).value(), std::move(late));
    from_now.Start([] {});
    rev = *kv.Update("/pods/p", Pod("b1"), rev);
    CHECK(Events(from_now) == std::vector<std::string>{"DELETED a1"});
    CHECK(late_evaluations == 2);
  }
}

}  // namespace
}  // namespace kite::apiserver
