// A Kubernetes watch response: newline-delimited JSON events ({"type":"ADDED","object":...})
// read from a store watcher, filtered, and handed to the HTTPS server one Poll at a time.
//
// Operation: optional synthetic ADDED events for the initial state come first (and, when
// asked, a BOOKMARK marking their end), then every change after the start revision. An
// object that starts or stops matching the selectors shows up as ADDED or DELETED, as the
// Kubernetes watch cache reports it. A compacted start revision ends the stream with an
// ERROR event carrying a 410 Expired Status; a watcher that fell too far behind is cut off
// (clients re-watch from the last revision they saw).
// Concurrency: Start/Poll/Cancel follow http::ResponseStream (one caller at a time); Wake()
// may be called from any thread (the server's ticker calls it for bookmarks and deadlines).
// Limitations: filtering parses each event's JSON when selectors are given (an update's
// previous state only when this stream did not just evaluate it); encoding is per watcher
// (no shared per-event bytes yet).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <string>
#include <unordered_map>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/http/http_types.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

struct WatchOptions {
  // Objects to send as ADDED before any change: stored bytes and their revisions.
  std::vector<std::pair<std::string, int64_t>> initial_objects;
  // Send a BOOKMARK annotated k8s.io/initial-events-end after the initial objects
  // (sendInitialEvents=true), at this revision.
  bool initial_events_end_bookmark = false;
  int64_t initial_events_revision = 0;
  bool allow_bookmarks = false;
  std::chrono::seconds bookmark_interval{60};
  // When the stream ends by itself (timeoutSeconds); zero = never.
  std::chrono::steady_clock::time_point deadline{};
  // Which objects the watcher sees; null = all.
  std::function<bool(const rapidjson::Value& object)> filter;
  // Turns an object's JSON (resourceVersion set) into what the event carries (a Table row,
  // for example); null = the object itself.
  std::function<std::string(const std::string& object_json)> transform;
  // apiVersion and kind of BOOKMARK objects.
  std::string api_version;
  std::string kind;
};

class WatchStream : public http::ResponseStream {
 public:
  WatchStream(std::unique_ptr<store::Watcher> watcher, WatchOptions options);
  ~WatchStream() override;

  void Start(std::function<void()> wake) override;
  bool Poll(std::string& out) override;
  void Cancel() override;

  // Makes the server Poll soon (bookmarks, deadline). Safe from any thread, any time.
  void Wake();

 private:
  // With selectors: whether the states this stream evaluated last matched, by key, with
  // their revisions. An update's previous state is usually one of them, so it need not be
  // parsed again. Cleared when it reaches kMaxRecentMatches keys.
  struct RecentMatch {
    int64_t revision = 0;
    bool matched = false;
  };
  static constexpr size_t kMaxRecentMatches = 16384;
  std::unordered_map<std::string, RecentMatch> recent_matches_;

  void AppendEvent(std::string& out, std::string_view type, const std::string& object_json);
  void AppendBookmark(std::string& out, int64_t revision, bool initial_events_end);
  bool Matches(const std::string& object_json, bool& parsed_ok);
  // Whether an update's previous state matched the selectors.
  bool PrevMatched(const store::KeyValue& prev);

  std::unique_ptr<store::Watcher> watcher_;
  WatchOptions options_;
  size_t next_initial_ = 0;
  bool initial_end_sent_ = false;
  int64_t last_revision_ = 0;
  std::chrono::steady_clock::time_point last_sent_;

  Mutex mu_;
  std::function<void()> wake_ GUARDED_BY(mu_);
  bool cancelled_ GUARDED_BY(mu_) = false;
};

// The live watch streams, woken once a second by a ticker thread so that bookmarks and
// timeoutSeconds fire without a timer per watch. Streams unregister by expiring.
class WatchTicker {
 public:
  WatchTicker();
  ~WatchTicker();  // stops and joins the thread
  void Add(std::weak_ptr<WatchStream> stream);
  size_t LiveCount();

 private:
  void Run();

  Mutex mu_;
  CondVar cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::weak_ptr<WatchStream>> streams_ GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace kite::apiserver
