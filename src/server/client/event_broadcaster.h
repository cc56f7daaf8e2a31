// EventBroadcaster: writes the Events that EventRecorders (event_recorder.h) record, as
// core/v1 Events through the API, from one background thread — client-go's
// record.EventBroadcaster with its sink and a simplified EventCorrelator.
//
// Operation:
//   - Enqueue (what EventRecorder::Event calls) appends to a bounded FIFO and returns at
//     once; when the queue holds `queue_capacity` records the new one is dropped and
//     counted (stats().dropped). The writer takes the whole queue at a time, so at most
//     twice that many records are held (waiting, and being written). Nothing is dropped
//     silently.
//   - The writer thread takes the queued records in order. A record that repeats an
//     earlier one — same source, object (kind, namespace, name, uid, apiVersion,
//     fieldPath), type, reason and message — whose Event was written less than
//     `aggregation_window` (10 minutes) before is folded into it: a merge PATCH that sets
//     count + 1 and lastTimestamp. Otherwise (or when that Event is gone: 404) a new Event
//     is created, named "<object name>.<hex Unix nanoseconds>", in the object's namespace
//     ("default" for cluster-scoped objects), with involvedObject, reason, message, type,
//     source, first/lastTimestamp, count 1, reportingComponent and reportingInstance.
//   - Repeats waiting in the queue together are written as one: count + n.
//   - Writes are rate-limited (a token bucket: `writes_per_second`, `burst`), as a client's
//     QPS limit bounds upstream's recorders: a burst of Events (10,000 pods scheduled at
//     once) costs the API server at most that many writes a second; what does not fit in the
//     queue meanwhile is dropped. Events are for people; the work they describe comes first.
//   - A write that fails is counted (stats().failed) and not retried: Events are best
//     effort, and a retry loop against a struggling API server would only add load.
// Correlation state: an LRU of the last `cache_entries` distinct Events (client-go keeps
// 4096), used by the writer thread only.
//
// Limitations: no spam filter (client-go's per-object token bucket) and no aggregation of
// similar Events with differing messages ("combined from similar events"); Events carry
// no series or eventTime (the core/v1 form kubectl describe reads).
//
// Lifetime: Start starts the writer; Stop (also the destructor) stops it: records still
// queued are dropped (counted), the write in flight finishes. Stop before the transport's
// API server goes away. Every recorder it made must be done recording by then (a record
// arriving after Stop is dropped and counted, never written).
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <thread>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/server/client/api_transport.h"
#include "src/server/client/event_recorder.h"
#include "src/server/client/resource_client.h"

namespace kite::client {

struct EventBroadcasterOptions {
  // Records waiting for the writer; more are dropped (client-go's maxQueuedEvents).
  size_t queue_capacity = 1000;
  // Distinct Events remembered for folding repeats (client-go's maxLruCacheEntries).
  size_t cache_entries = 4096;
  // A repeat within this time of the Event's last write updates it (count, lastTimestamp).
  std::chrono::milliseconds aggregation_window{std::chrono::minutes(10)};
  // Event times (first/lastTimestamp, the aggregation window); null = the system clock.
  const Clock* clock = nullptr;
  // Sustained API writes (creates and patches) per second, and how many may go at once
  // after a quiet time (the kubelet's eventRecordQPS and eventBurst); 0 = no limit.
  double writes_per_second = 50;
  int burst = 100;
};

class EventBroadcaster {
 public:
  // `transport` must outlive the broadcaster (or at least its Stop).
  explicit EventBroadcaster(ApiTransport* transport, EventBroadcasterOptions options = {});
  ~EventBroadcaster();
  EventBroadcaster(const EventBroadcaster&) = delete;
  EventBroadcaster& operator=(const EventBroadcaster&) = delete;

  // A recorder that speaks for `source` (its strings are shared by every record it makes).
  EventRecorder NewRecorder(EventSource source);

  // Starts the writer thread; records queued before wait for it. Once.
  void Start() EXCLUDES(mu_);
  // See the header comment. Idempotent.
  void Stop() EXCLUDES(mu_);

  // Queues `record`; false when it was dropped (queue full, or stopped). Never blocks on
  // the API: it takes one short lock.
  bool Enqueue(EventRecord record) EXCLUDES(mu_);

  // Waits until every record queued before the call has been written or has failed, up
  // to `timeout`; true when that happened (tests).
  bool Flush(std::chrono::milliseconds timeout) EXCLUDES(mu_);

  struct Stats {
    uint64_t queued = 0;   // accepted by Enqueue
    uint64_t created = 0;  // new Events written
    uint64_t patched = 0;  // repeats folded into an existing Event
    uint64_t dropped = 0;  // refused by Enqueue (queue full, stopped) or left queued at Stop
    uint64_t failed = 0;   // writes the API refused or that could not be sent
  };
  Stats stats() const;

  const Clock* clock() const { return clock_; }

 private:
  struct Cache;  // the correlation LRU (writer thread only)

  void Run() EXCLUDES(mu_);
  // Writes `occurrences` repeats of one Event, the first and last of them given.
  void Write(const EventRecord& first, const EventRecord& last, int64_t occurrences);
  // Waits for a write token; false when stopping.
  bool TakeToken() EXCLUDES(mu_);
  // A name "<object>.<hex nanos>" unique within this broadcaster.
  std::string NewName(const std::string& object_name);

  const EventBroadcasterOptions options_;
  const Clock* clock_;
  const ResourceClient events_;
  std::unique_ptr<Cache> cache_;  // writer thread only
  int64_t last_nanos_ = 0;        // writer thread only
  double tokens_ = 0;             // writer thread only
  std::chrono::steady_clock::time_point refilled_;  // writer thread only

  mutable Mutex mu_;
  CondVar work_cv_;
  CondVar done_cv_;
  std::deque<EventRecord> queue_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t accepted_ GUARDED_BY(mu_) = 0;  // records ever queued
  uint64_t finished_ GUARDED_BY(mu_) = 0;  // of those, written, failed or dropped at Stop
  std::thread writer_;

  std::atomic<uint64_t> created_{0};
  std::atomic<uint64_t> patched_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace kite::client
