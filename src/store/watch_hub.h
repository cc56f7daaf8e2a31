// WatchHub: fans committed events out to watchers, in memory, from the commit path.
//
// Operation: a backend calls Publish() with each committed group of events, in revision
// order, before it acknowledges the writes. A new watcher first replays history from the
// backend (through HistorySource, a page at a time, on the watcher's own thread), up to the
// revision published when it registered; events published after that are queued for it
// meanwhile. So it sees every change after its start revision once, in order.
//
// Concurrency: all methods are thread-safe. Publish() never blocks on a slow watcher: each
// watcher's queue is bounded, and a watcher whose queue is full is cut off (its Next()
// returns kResourceExhausted) and its queue freed.
//
// Limitations: delivery costs O(watchers) prefix comparisons per event. Watchers must be
// destroyed before the hub and its HistorySource.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/store/kv_store.h"

namespace kite::store {

class HistorySource {
 public:
  virtual ~HistorySource() = default;
  // Events for keys starting with `prefix` with after < revision <= up_to, in revision
  // order, at most `limit` of them. kCompacted if history after `after` is gone.
  virtual Result<std::vector<EventPtr>> ReadHistory(std::string_view prefix, int64_t after,
                                                    int64_t up_to, size_t limit) = 0;
};

class HubWatcher;

class WatchHub {
 public:
  WatchHub(HistorySource* history, size_t buffer_limit);
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // A watcher of changes under `prefix` after `after_revision`. The caller has checked that
  // after_revision is not compacted.
  std::unique_ptr<Watcher> Add(std::string prefix, int64_t after_revision) EXCLUDES(mu_);

  // Delivers committed events (ascending revisions, all above earlier calls').
  void Publish(const std::vector<EventPtr>& events) EXCLUDES(mu_);

  // Revision of the newest published event (or the start revision given to SetPublished).
  int64_t published_revision() EXCLUDES(mu_);
  // Sets the published revision at open, before any Publish.
  void SetPublished(int64_t revision) EXCLUDES(mu_);

  // Fails every watcher with kUnavailable; later Add()s get dead watchers.
  void Close() EXCLUDES(mu_);

  size_t watcher_count() EXCLUDES(mu_);

 private:
  friend class HubWatcher;
  void Remove(HubWatcher* watcher) EXCLUDES(mu_);

  HistorySource* const history_;
  const size_t buffer_limit_;
  Mutex mu_;
  std::vector<HubWatcher*> watchers_ GUARDED_BY(mu_);
  int64_t published_ GUARDED_BY(mu_) = 0;
  bool closed_ GUARDED_BY(mu_) = false;
};

}  // namespace kite::store
