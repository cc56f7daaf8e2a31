// Behaviour every KvStore backend shares: each TEST_CASE runs against the in-memory and
// the SQLite backend.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

#include "src/base/clock.h"
#include "src/store/memory_store.h"
#include "src/store/open_store.h"
#include "src/store/sqlite_store.h"
#include "tests/store/store_backends.h"
#include "tests/testing/temp_dir.h"

namespace kite::store {
namespace {

using namespace std::chrono_literals;

int64_t MustCreate(KvStore& s, const std::string& key, const std::string& value) {
  Result<int64_t> rev = s.Create(key, value);
  REQUIRE(rev.ok());
  return *rev;
}

// Reads events until `count` have arrived (or a 5 s deadline passes).
std::vector<EventPtr> Collect(Watcher& w, size_t count) {
  std::vector<EventPtr> events;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (events.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = w.Next(100ms);
    REQUIRE(batch.ok());
    events.insert(events.end(), batch->begin(), batch->end());
  }
  return events;
}

TEST_CASE("create, get, update, delete and their errors", "[store]") {
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})));
  KvStore& s = *b->store;

  REQUIRE(s.CurrentRevision() == 0);
  int64_t r1 = MustCreate(s, "/a", "one");
  REQUIRE(r1 == 1);
  REQUIRE(s.CurrentRevision() == 1);

  auto dup = s.Create("/a", "again");
  REQUIRE(dup.status().code() == StatusCode::kAlreadyExists);
  REQUIRE_THAT(dup.status().message(), Catch::Contains("/a"));
  REQUIRE(s.CurrentRevision() == 1);  // failed writes take no revision

  auto got = s.Get("/a");
  REQUIRE(got.ok());
  REQUIRE(got->value == "one");
  REQUIRE(got->create_revision == 1);
  REQUIRE(got->mod_revision == 1);

  REQUIRE(s.Get("/missing").status().code() == StatusCode::kNotFound);
  REQUIRE(s.Update("/missing", "x", 0).status().code() == StatusCode::kNotFound);
  REQUIRE(s.Delete("/missing").status().code() == StatusCode::kNotFound);
  REQUIRE(s.Create("", "x").status().code() == StatusCode::kInvalidArgument);

  auto stale = s.Update("/a", "two", 7);
  REQUIRE(stale.status().code() == StatusCode::kConflict);
  REQUIRE_THAT(stale.status().message(), Catch::Contains("revision 1"));
  REQUIRE(s.Get("/a")->value == "one");  // a failed update changes nothing

  auto r2 = s.Update("/a", "two", r1);
  REQUIRE(r2.ok());
  REQUIRE(*r2 == 2);
  auto r3 = s.Update("/a", "three", 0);  // unconditional
  REQUIRE(r3.ok());
  got = s.Get("/a");
  REQUIRE(got->value == "three");
  REQUIRE(got->create_revision == 1);
  REQUIRE(got->mod_revision == 3);

  REQUIRE(s.Delete("/a", 2).status().code() == StatusCode::kConflict);
  auto r4 = s.Delete("/a", 3);
  REQUIRE(r4.ok());
  REQUIRE(*r4 == 4);
  REQUIRE(s.Get("/a").status().code() == StatusCode::kNotFound);

  // Re-creating a deleted key starts a new life.
  int64_t r5 = MustCreate(s, "/a", "reborn");
  REQUIRE(s.Get("/a")->create_revision == r5);

  // Past reads see each revision's state.
  REQUIRE(s.Get("/a", 1)->value == "one");
  REQUIRE(s.Get("/a", 2)->value == "two");
  REQUIRE(s.Get("/a", 4).status().code() == StatusCode::kNotFound);
  REQUIRE(s.Get("/a", 3)->value == "three");  // deleted and re-created since
  REQUIRE(s.Get("/a", r5)->value == "reborn");
  REQUIRE(s.Range(RangeRequest::Prefix("/", 4))->count == 0);
  REQUIRE(s.Range(RangeRequest::Prefix("/", 3))->count == 1);
  REQUIRE(s.Get("/a", 99).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("range with prefix, limit, continue token and count", "[store]") {
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})));
  KvStore& s = *b->store;
  for (int i = 0; i < 25; ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "/pods/%02d", i);
    MustCreate(s, key, "v" + std::to_string(i));
  }
  MustCreate(s, "/podsx", "outside");
  MustCreate(s, "/nodes/a", "outside");

  RangeRequest all = RangeRequest::Prefix("/pods/");
  auto r = s.Range(all);
  REQUIRE(r.ok());
  REQUIRE(r->kvs.size() == 25);
  REQUIRE(r->count == 25);
  REQUIRE(r->continue_token.empty());
  REQUIRE(r->revision == s.CurrentRevision());
  REQUIRE(std::is_sorted(r->kvs.begin(), r->kvs.end(),
                         [](auto& a, auto& b) { return a.key < b.key; }));

  RangeRequest page = all;
  page.limit = 10;
  auto p1 = s.Range(page);
  REQUIRE(p1.ok());
  REQUIRE(p1->kvs.size() == 10);
  REQUIRE(p1->count == 25);
  REQUIRE_FALSE(p1->continue_token.empty());
  int64_t first_page_rev = p1->revision;

  // Writes between pages do not show in later pages: they are read at the first's revision.
  REQUIRE(s.Update("/pods/15", "changed", 0).ok());
  REQUIRE(s.Delete("/pods/20").ok());
  MustCreate(s, "/pods/12a", "new");

  page.continue_token = p1->continue_token;
  auto p2 = s.Range(page);
  REQUIRE(p2.ok());
  REQUIRE(p2->revision == first_page_rev);
  REQUIRE(p2->kvs.size() == 10);
  REQUIRE(p2->kvs.front().key == "/pods/10");
  REQUIRE(p2->count == 15);  // what remains from this page on
  REQUIRE(p2->kvs[5].value == "v15");
  page.continue_token = p2->continue_token;
  auto p3 = s.Range(page);
  REQUIRE(p3.ok());
  REQUIRE(p3->kvs.size() == 5);
  REQUIRE(p3->continue_token.empty());
  REQUIRE(p3->kvs[0].key == "/pods/20");

  // The current state reflects the writes.
  auto now = s.Range(all);
  REQUIRE(now->count == 25);
  REQUIRE(std::none_of(now->kvs.begin(), now->kvs.end(), [](auto& kv) { return kv.key == "/pods/20"; }));

  RangeRequest count = all;
  count.count_only = true;
  auto c = s.Range(count);
  REQUIRE(c->kvs.empty());
  REQUIRE(c->count == 25);

  RangeRequest single = RangeRequest::Key("/podsx");
  REQUIRE(s.Range(single)->kvs.size() == 1);

  RangeRequest bad = all;
  bad.continue_token = "not-a-token";
  REQUIRE(s.Range(bad).status().code() == StatusCode::kInvalidArgument);
  bad.continue_token.clear();
  bad.revision = s.CurrentRevision() + 5;
  REQUIRE(s.Range(bad).status().code() == StatusCode::kInvalidArgument);
  bad.revision = 0;
  bad.limit = -1;
  REQUIRE(s.Range(bad).status().code() == StatusCode::kInvalidArgument);

  REQUIRE(s.Range(RangeRequest::Prefix("/"))->count == 27);
  // An empty prefix has no upper bound: every key.
  REQUIRE(s.Range(RangeRequest::Prefix(""))->count == 27);
}

TEST_CASE("PrefixEnd", "[store]") {
  REQUIRE(PrefixEnd("/a/") == "/a0");
  REQUIRE(PrefixEnd("a\xff") == "b");
  REQUIRE(PrefixEnd("\xff\xff") == "");
}

TEST_CASE("watch delivers every later change in order, with prev values", "[store]") {
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})));
  KvStore& s = *b->store;
  int64_t r1 = MustCreate(s, "/w/a", "1");
  REQUIRE(s.Update("/w/a", "2", r1).ok());
  MustCreate(s, "/other", "x");

  // From revision 0: history replay, then live events, no duplicates.
  auto from_start = s.Watch("/w/", 0);
  REQUIRE(from_start.ok());
  // From now: only live events.
  auto from_now = s.Watch("/w/", s.CurrentRevision());
  REQUIRE(from_now.ok());

  MustCreate(s, "/w/b", "b");
  REQUIRE(s.Delete("/w/a").ok());

  auto all = Collect(**from_start, 4);
  REQUIRE(all.size() == 4);
  REQUIRE(all[0]->kv.value == "1");
  REQUIRE_FALSE(all[0]->prev.has_value());
  REQUIRE(all[1]->kv.value == "2");
  REQUIRE(all[1]->prev->value == "1");
  REQUIRE(all[2]->kv.key == "/w/b");
  REQUIRE(all[3]->type == Event::Type::kDelete);
  REQUIRE(all[3]->kv.key == "/w/a");
  REQUIRE(all[3]->kv.value == "2");  // a delete reports the last value
  REQUIRE(all[3]->prev->mod_revision == 2);
  for (size_t i = 1; i < all.size(); ++i) REQUIRE(all[i]->revision() > all[i - 1]->revision());

  auto live = Collect(**from_now, 2);
  REQUIRE(live.size() == 2);
  REQUIRE(live[0]->kv.key == "/w/b");

  // Nothing more is pending: no duplicates.
  auto extra = (*from_start)->Next(50ms);
  REQUIRE(extra.ok());
  REQUIRE(extra->empty());
}

TEST_CASE("a slow watcher is cut off without stalling writers", "[store]") {
  StoreOptions options;
  options.watch_buffer_events = 50;
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  auto slow = s.Watch("/", 0);
  REQUIRE(slow.ok());
  int notified = 0;
  (*slow)->SetReadyCallback([&] { ++notified; });
  for (int i = 0; i < 200; ++i) MustCreate(s, "/k" + std::to_string(i), "v");
  REQUIRE(s.CurrentRevision() == 200);
  auto result = (*slow)->Next(0ms);
  REQUIRE(result.status().code() == StatusCode::kResourceExhausted);
  REQUIRE_THAT(result.status().message(), Catch::Contains("list again"));
  REQUIRE(notified > 0);
  // A new watch from the current revision works.
  auto fresh = s.Watch("/", s.CurrentRevision());
  REQUIRE(fresh.ok());
  MustCreate(s, "/after", "v");
  REQUIRE(Collect(**fresh, 1).size() == 1);
}

TEST_CASE("compaction forgets old revisions but keeps live values", "[store]") {
  StoreOptions options;
  options.history_window_revisions = 0;  // only explicit compaction here
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  MustCreate(s, "/keep", "old");      // 1: never changes again
  MustCreate(s, "/churn", "a");       // 2
  REQUIRE(s.Update("/churn", "b", 0).ok());  // 3
  MustCreate(s, "/gone", "x");        // 4
  REQUIRE(s.Delete("/gone").ok());    // 5
  REQUIRE(s.Update("/churn", "c", 0).ok());  // 6

  REQUIRE(s.Compact(99).code() == StatusCode::kInvalidArgument);
  REQUIRE(s.Compact(5).ok());
  REQUIRE(s.CompactedRevision() == 5);
  REQUIRE(s.Compact(4).code() == StatusCode::kCompacted);

  REQUIRE(s.Get("/keep", 4).status().code() == StatusCode::kCompacted);
  REQUIRE(s.Watch("/", 3).status().code() == StatusCode::kCompacted);
  auto at5 = s.Range(RangeRequest::Prefix("/", 5));
  REQUIRE(at5.ok());
  REQUIRE(at5->kvs.size() == 2);  // /churn=b and /keep
  REQUIRE(at5->kvs[0].value == "b");
  REQUIRE(s.Get("/keep")->value == "old");
  REQUIRE(s.Get("/churn")->value == "c");

  // A watch from the compaction point still sees every later change.
  auto w = s.Watch("/", 5);
  REQUIRE(w.ok());
  auto events = Collect(**w, 1);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0]->revision() == 6);
  REQUIRE(events[0]->prev->value == "b");
}

TEST_CASE("keys with a TTL expire as ordinary deletes", "[store]") {
  FakeClock clock;
  StoreOptions options;
  options.clock = &clock;
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  REQUIRE(s.Create("/lease/a", "x", WriteOptions{10s}).ok());
  REQUIRE(s.Create("/lease/b", "y", WriteOptions{60s}).ok());
  MustCreate(s, "/forever", "z");
  auto w = s.Watch("/lease/", s.CurrentRevision());
  REQUIRE(w.ok());

  REQUIRE(s.ExpireKeys().ok());
  REQUIRE(s.Get("/lease/a").ok());
  clock.Advance(11s);
  REQUIRE(s.ExpireKeys().ok());
  REQUIRE(s.Get("/lease/a").status().code() == StatusCode::kNotFound);
  REQUIRE(s.Get("/lease/b").ok());
  REQUIRE(s.Get("/forever").ok());
  auto events = Collect(**w, 1);
  REQUIRE(events.size() == 1);
  REQUIRE(events[0]->type == Event::Type::kDelete);
  REQUIRE(events[0]->kv.value == "x");

  // An update without a TTL clears it.
  REQUIRE(s.Update("/lease/b", "y2", 0).ok());
  clock.Advance(120s);
  REQUIRE(s.ExpireKeys().ok());
  REQUIRE(s.Get("/lease/b").ok());

  // A rewrite with a later expiry, or a delete and a new key of the same name, keeps the
  // key past the first expiry time.
  REQUIRE(s.Create("/lease/c", "1", WriteOptions{10s}).ok());
  REQUIRE(s.Update("/lease/c", "2", 0, WriteOptions{30s}).ok());
  REQUIRE(s.Create("/lease/d", "1", WriteOptions{10s}).ok());
  REQUIRE(s.Delete("/lease/d").ok());
  REQUIRE(s.Create("/lease/d", "2", WriteOptions{30s}).ok());
  clock.Advance(11s);
  REQUIRE(s.ExpireKeys().ok());
  REQUIRE(s.Get("/lease/c").ok());
  REQUIRE(s.Get("/lease/d").ok());
  clock.Advance(20s);
  REQUIRE(s.Create("/other", "written after both expired", WriteOptions{}).ok());  // writes expire too
  REQUIRE(s.ExpireKeys().ok());
  REQUIRE(s.Get("/lease/c").status().code() == StatusCode::kNotFound);
  REQUIRE(s.Get("/lease/d").status().code() == StatusCode::kNotFound);
}

TEST_CASE("concurrent writers get unique gap-free revisions; watchers see all in order",
          "[store]") {
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})));
  KvStore& s = *b->store;
  constexpr int kThreads = 16, kWrites = 200;
  std::vector<std::unique_ptr<Watcher>> watchers;
  for (int i = 0; i < 4; ++i) watchers.push_back(std::move(s.Watch("/c/", 0)).value());

  std::vector<std::vector<int64_t>> revisions(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string key = "/c/" + std::to_string(t);
      auto rev = s.Create(key, "0");
      if (rev.ok()) revisions[t].push_back(*rev);
      for (int i = 1; i < kWrites; ++i) {
        auto next = s.Update(key, std::to_string(i), revisions[t].back());
        if (!next.ok()) break;
        revisions[t].push_back(*next);
      }
    });
  }
  for (auto& t : threads) t.join();

  std::vector<int64_t> all;
  for (auto& r : revisions) {
    REQUIRE(r.size() == kWrites);
    all.insert(all.end(), r.begin(), r.end());
  }
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) REQUIRE(all[i] == static_cast<int64_t>(i + 1));

  for (auto& w : watchers) {
    auto events = Collect(*w, all.size());
    REQUIRE(events.size() == all.size());
    for (size_t i = 0; i < events.size(); ++i) {
      REQUIRE(events[i]->revision() == static_cast<int64_t>(i + 1));
    }
  }
}

TEST_CASE("writers sharing one key: each event's prev is the state the event before left",
          "[store]") {
  // Unconditional updates, deletes and re-creates of one key from many threads land in
  // the same write groups, so a write must see an earlier one of its own group — whatever
  // the read cache holds (the default, and one that evicts on almost every write).
  StoreOptions options;
  options.latest_values_bytes = GENERATE(size_t{64} << 20, size_t{300});
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  const std::string key = "/shared/k";
  REQUIRE(s.Create(key, "start").ok());
  auto watcher = std::move(s.Watch("/shared/", s.CurrentRevision())).value();
  constexpr int kThreads = 8, kWrites = 100;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        std::string value = std::to_string(t) + "/" + std::to_string(i);
        bool ok = (i % 10 == 9) ? s.Delete(key).ok() : s.Update(key, value, 0).ok();
        if (!ok) ok = s.Create(key, value).ok();  // deleted by another thread: bring it back
        if (ok) acknowledged.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<EventPtr> events = Collect(*watcher, static_cast<size_t>(acknowledged.load()));
  REQUIRE(events.size() == static_cast<size_t>(acknowledged.load()));
  KeyValue state{key, "start", 1, 1, 0};
  bool exists = true;
  for (const EventPtr& e : events) {
    if (exists) {
      REQUIRE(e->prev.has_value());
      CHECK(e->prev->mod_revision == state.mod_revision);
      CHECK(e->prev->value == state.value);
      CHECK(e->prev->create_revision == state.create_revision);
    } else {
      CHECK_FALSE(e->prev.has_value());
    }
    exists = e->type == Event::Type::kPut;
    if (exists) {
      CHECK(e->kv.create_revision == (e->prev ? state.create_revision : e->kv.mod_revision));
      state = e->kv;
    }
  }
}

TEST_CASE("a current read after an acknowledged write sees it, under concurrent reads", "[store]") {
  StoreOptions options;
  // The default, and one that evicts on almost every write (the SQLite read cache).
  options.latest_values_bytes = GENERATE(size_t{64} << 20, size_t{300});
  auto b = OpenBackend(GENERATE(values<std::string>({"memory", "sqlite"})), options);
  KvStore& s = *b->store;
  constexpr int kWriters = 4, kRounds = 100;
  std::atomic<bool> done{false};
  std::atomic<int> stale{0};

  // Readers keep reading the keys being written, so reads race with the writes.
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!done) {
        for (int w = 0; w < kWriters; ++w) (void)s.Get("/r/" + std::to_string(w) + "/hot");
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string hot = "/r/" + std::to_string(w) + "/hot";
      Result<int64_t> rev = s.Create(hot, "0");
      if (!rev.ok()) return;
      for (int i = 1; i <= kRounds; ++i) {
        Result<int64_t> next = s.Update(hot, std::to_string(i), *rev);
        if (!next.ok()) return;
        rev = next;
        Result<KeyValue> got = s.Get(hot);
        if (!got.ok() || got->mod_revision != *rev || got->value != std::to_string(i)) ++stale;
        // A deleted key stays deleted for later reads, however reads raced with the delete.
        Result<int64_t> deleted = s.Delete(hot, *rev);
        if (!deleted.ok()) return;
        if (s.Get(hot).ok()) ++stale;
        rev = s.Create(hot, std::to_string(i));
        if (!rev.ok()) return;
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  for (auto& t : readers) t.join();
  CHECK(stale.load() == 0);
  for (int w = 0; w < kWriters; ++w) {
    Result<KeyValue> last = s.Get("/r/" + std::to_string(w) + "/hot");
    REQUIRE(last.ok());
    CHECK(last->value == std::to_string(kRounds));
  }
}

TEST_CASE("datastore endpoints", "[store]") {
  REQUIRE(OpenStore("mysql://x").status().code() == StatusCode::kInvalidArgument);
  REQUIRE(OpenStore("sqlite://relative.db").status().code() == StatusCode::kInvalidArgument);
  REQUIRE(OpenStore("memory://").ok());
}

TEST_CASE("sqlite: data, revision and compaction point survive reopening", "[store][sqlite]") {
  testing::TempDir dir;
  std::string path = dir.file("state.db");
  StoreOptions options;
  options.history_window_revisions = 0;
  {
    auto s = SqliteStore::Open(path, options);
    REQUIRE(s.ok());
    REQUIRE((*s)->Create("/a", "1").ok());
    REQUIRE((*s)->Create("/b", "2").ok());
    REQUIRE((*s)->Update("/a", "3", 0).ok());
    REQUIRE((*s)->Delete("/b").ok());
    REQUIRE((*s)->Compact(2).ok());
  }
  auto s = SqliteStore::Open(path, options);
  REQUIRE(s.ok());
  REQUIRE((*s)->CurrentRevision() == 4);
  REQUIRE((*s)->CompactedRevision() == 2);
  REQUIRE((*s)->Get("/a")->value == "3");
  REQUIRE((*s)->Get("/b").status().code() == StatusCode::kNotFound);
  REQUIRE((*s)->Get("/b", 3)->value == "2");
  REQUIRE(*(*s)->Create("/c", "x") == 5);
}

TEST_CASE("sqlite: a file that is not a database gives a clear error", "[store][sqlite]") {
  testing::TempDir dir;
  std::string path = dir.file("junk.db");
  FILE* f = std::fopen(path.c_str(), "w");
  std::fputs("this is not a database, just text that is long enough to be a header......\n", f);
  std::fclose(f);
  auto s = SqliteStore::Open(path);
  REQUIRE_FALSE(s.ok());
  REQUIRE(s.status().code() == StatusCode::kIoError);
  REQUIRE_THAT(s.status().message(), Catch::Contains("not a database"));
}

}  // namespace
}  // namespace kite::store
