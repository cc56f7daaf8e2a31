// Informers whose handlers come and go, the back-off of failed lists, and the factory's
// subscriptions (an informer lives while someone subscribes, unless it is permanent),
// against a real API server through a transport that counts what reaches it.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "src/base/mutex.h"
#include "src/server/client/informer.h"
#include "src/server/client/informer_factory.h"
#include "src/server/client/well_known_resources.h"
#include "tests/testing/api_fixture.h"

namespace kite::client {
namespace {

using testing::ApiFixture;
using testing::Eventually;

// Passes requests through, counting GETs (lists and gets) and watch streams still open.
class CountingTransport final : public ApiTransport {
 public:
  explicit CountingTransport(ApiTransport* inner) : inner_(inner) {}

  ClientResponse Do(const ClientRequest& request) override {
    if (request.method == "GET") ++gets;
    return inner_->Do(request);
  }
  Result<std::unique_ptr<WatchReader>> Watch(const ClientRequest& request) override {
    Result<std::unique_ptr<WatchReader>> reader = inner_->Watch(request);
    if (!reader.ok()) return reader;
    return std::unique_ptr<WatchReader>(new CountedReader(std::move(reader).value(), &open_watches));
  }

  std::atomic<int> gets{0};
  std::atomic<int> open_watches{0};

 private:
  class CountedReader final : public WatchReader {
   public:
    CountedReader(std::unique_ptr<WatchReader> inner, std::atomic<int>* open) : inner_(std::move(inner)), open_(open) {
      ++*open_;
    }
    ~CountedReader() override { --*open_; }
    Result<std::vector<std::string>> Next(std::chrono::milliseconds timeout) override { return inner_->Next(timeout); }

   private:
    std::unique_ptr<WatchReader> inner_;
    std::atomic<int>* open_;
  };

  ApiTransport* inner_;
};

// Names seen by one set of handlers: added minus deleted, and how many adds came.
struct Seen {
  Mutex mu;
  std::set<std::string> names GUARDED_BY(mu);
  int adds GUARDED_BY(mu) = 0;
  int duplicate_adds GUARDED_BY(mu) = 0;
  int updates GUARDED_BY(mu) = 0;
  int deletes GUARDED_BY(mu) = 0;

  InformerHandlers Handlers() {
    return {
        .on_add =
            [this](const ObjectPtr& o) {
              MutexLock lock(mu);
              ++adds;
              if (!names.insert(ObjectKey(*o)).second) ++duplicate_adds;
            },
        .on_update =
            [this](const ObjectPtr&, const ObjectPtr&) {
              MutexLock lock(mu);
              ++updates;
            },
        .on_delete =
            [this](const ObjectPtr& o) {
              MutexLock lock(mu);
              ++deletes;
              names.erase(ObjectKey(*o));
            },
    };
  }
  std::set<std::string> Names() {
    MutexLock lock(mu);
    return names;
  }
  int Adds() {
    MutexLock lock(mu);
    return adds;
  }
  int Updates() {
    MutexLock lock(mu);
    return updates;
  }
  int Deletes() {
    MutexLock lock(mu);
    return deletes;
  }
  int DuplicateAdds() {
    MutexLock lock(mu);
    return duplicate_adds;
  }
};

std::set<std::string> CachedNames(const Informer& informer) {
  std::set<std::string> out;
  for (const ObjectPtr& o : informer.List()) out.insert(ObjectKey(*o));
  return out;
}

std::string ConfigMap(const std::string& name) { return R"({"metadata":{"name":")" + name + R"("}})"; }

TEST_CASE("a handler added after sync gets the cached objects, then the later events") {
  ApiFixture api;
  api.Create(kConfigMaps, "default", ConfigMap("one"));
  api.Create(kConfigMaps, "default", ConfigMap("two"));
  Informer informer(api.Client(kConfigMaps));
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(10)));

  Seen late;
  informer.AddHandlers(late.Handlers());
  // The replay happened before AddHandlers returned.
  CHECK(late.Names() == std::set<std::string>{"default/one", "default/two"});
  CHECK(late.Adds() == 2);

  api.Create(kConfigMaps, "default", ConfigMap("three"));
  REQUIRE(api.Client(kConfigMaps).Patch("default", "one", PatchType::kMerge, R"({"data":{"k":"v"}})").ok());
  REQUIRE(api.Client(kConfigMaps).Delete("default", "two").ok());
  REQUIRE(Eventually([&] { return late.Deletes() == 1; }));
  CHECK(late.Names() == std::set<std::string>{"default/one", "default/three"});
  CHECK(late.Adds() == 3);
  CHECK(late.Updates() == 1);
  informer.Stop();
}

TEST_CASE("a handler added while events stream in misses none and sees none twice") {
  ApiFixture api;
  Informer informer(api.Client(kConfigMaps));
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(10)));
  constexpr int kObjects = 60;
  std::thread writer([&] {
    for (int i = 0; i < kObjects; ++i) {
      api.Create(kConfigMaps, "default", ConfigMap("cm-" + std::to_string(i)));
      // Every third one goes again, so deletes race the replay too.
      if (i % 3 == 0) (void)api.Client(kConfigMaps).Delete("default", "cm-" + std::to_string(i));
    }
  });
  // Join the stream part-way through.
  REQUIRE(Eventually([&] { return informer.List().size() >= 5; }));
  Seen late;
  informer.AddHandlers(late.Handlers());
  writer.join();
  REQUIRE(Eventually([&] { return informer.List().size() == kObjects - kObjects / 3; }));
  CHECK(late.Names() == CachedNames(informer));
  CHECK(late.DuplicateAdds() == 0);
  informer.Stop();
}

TEST_CASE("after RemoveHandlers returns, those handlers are never called again") {
  ApiFixture api;
  Informer informer(api.Client(kConfigMaps));
  Seen kept, removed;
  Informer::HandlerId id = informer.AddHandlers(removed.Handlers());
  informer.AddHandlers(kept.Handlers());
  CHECK(id != 0);
  informer.Start();
  REQUIRE(informer.WaitForSync(std::chrono::seconds(10)));
  api.Create(kConfigMaps, "default", ConfigMap("a"));
  REQUIRE(Eventually([&] { return removed.Adds() == 1 && kept.Adds() == 1; }));

  informer.RemoveHandlers(id);
  informer.RemoveHandlers(id);  // twice: ignored
  api.Create(kConfigMaps, "default", ConfigMap("b"));
  REQUIRE(api.Client(kConfigMaps).Delete("default", "a").ok());
  // Handlers run in registration order for each event: once the kept one (registered
  // second) saw the delete, the removed one would have been called by now.
  REQUIRE(Eventually([&] { return kept.Deletes() == 1 && kept.Adds() == 2; }));
  CHECK(removed.Adds() == 1);
  CHECK(removed.Deletes() == 0);
  informer.Stop();
}

TEST_CASE("a list that fails is retried with an exponential back-off") {
  ApiFixture api;
  CountingTransport counting(api.transport());
  // Not served: every list is a 404.
  Informer informer(ResourceClient(&counting, {"example.com", "v1", "nothings", true}));
  informer.Start();
  // Lists at 0, 0.8 and 2.4 s (a fixed half-second retry would make five by 2.2 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  int lists = counting.gets.load();
  CHECK(lists >= 2);
  CHECK(lists <= 3);
  CHECK_FALSE(informer.HasSynced());
  // Stop does not wait out the back-off.
  auto before = std::chrono::steady_clock::now();
  informer.Stop();
  CHECK(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(500));
}

TEST_CASE("subscriptions share an informer, which stops with the last of them unless For keeps it") {
  ApiFixture api;
  CountingTransport counting(api.transport());
  api.Create(kConfigMaps, "default", ConfigMap("existing"));
  InformerFactory factory(&counting);
  factory.StartAll();

  // Subscribed after StartAll: started at once.
  Seen first_seen, second_seen;
  Subscription first = factory.Subscribe(kConfigMaps, first_seen.Handlers());
  REQUIRE(first);
  REQUIRE(first->WaitForSync(std::chrono::seconds(10)));
  CHECK(first->Get("default", "existing") != nullptr);
  CHECK(first_seen.Names() == std::set<std::string>{"default/existing"});
  // A second subscription shares the informer and gets the cached objects.
  Subscription second = factory.Subscribe(kConfigMaps, second_seen.Handlers());
  CHECK(&second.informer() == &first.informer());
  CHECK(second_seen.Names() == std::set<std::string>{"default/existing"});
  REQUIRE(Eventually([&] { return counting.open_watches == 1; }));

  // Moving a subscription keeps it.
  Subscription moved = std::move(first);
  CHECK_FALSE(first);
  REQUIRE(moved);
  moved.Reset();  // one of two: the informer stays, the other handlers still hear events
  CHECK(factory.Has(kConfigMaps));
  api.Create(kConfigMaps, "default", ConfigMap("later"));
  REQUIRE(Eventually([&] { return second_seen.Adds() == 2; }));
  CHECK(first_seen.Adds() == 1);
  CHECK(counting.open_watches == 1);

  // The last one stops and destroys the informer: its watch closes and nothing lists again.
  second.Reset();
  CHECK_FALSE(factory.Has(kConfigMaps));
  CHECK(counting.open_watches == 0);
  int gets = counting.gets;
  api.Create(kConfigMaps, "default", ConfigMap("unseen"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(counting.gets == gets);
  CHECK(second_seen.Adds() == 2);

  // A permanent informer (For) outlives its subscriptions.
  Informer& secrets = factory.For(kSecrets);
  Seen secret_seen;
  {
    Subscription s = factory.Subscribe(kSecrets, secret_seen.Handlers());
    REQUIRE(secrets.WaitForSync(std::chrono::seconds(10)));
  }
  CHECK(factory.Has(kSecrets));
  api.Create(kSecrets, "default", R"({"metadata":{"name":"s"}})");
  CHECK(Eventually([&] { return secrets.Get("default", "s") != nullptr; }));
  CHECK(secret_seen.Adds() == 0);
  CHECK(factory.WaitForSync(std::chrono::seconds(10)));
  factory.StopAll();
  CHECK(counting.open_watches == 0);
}

}  // namespace
}  // namespace kite::client
