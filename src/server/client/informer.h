// Informer: an in-memory copy of every object of one resource (optionally narrowed by
// namespace and selectors), kept current by list + watch, with callbacks on every change.
// Controllers read from it instead of asking the API server, and queue work from its
// callbacks.
//
// Behaviour (as client-go's reflector): list, then watch from the list's resourceVersion;
// when the watch ends, watch again from the last seen version; when that version is gone
// (410) or the watch fails, list again and report the difference as adds, updates and
// deletes, so handlers converge whatever was missed. A failed list, or a watch that cannot
// start, is retried after a back-off of 0.8 s doubling to 30 s, reset by the next list or
// watch that succeeds (a resource that is not served is not asked for twice a second).
//
// Handlers may be added and removed at any time (as client-go's AddEventHandler):
//  - AddHandlers on an informer that has cached objects first calls the new on_add for each
//    of them — on the caller's thread, before it returns — and then hands the handlers every
//    later event; no event of the informer runs during that replay, none is lost or seen
//    twice;
//  - after RemoveHandlers returns, those handlers are never called again (it waits for a
//    call in progress), so they may capture pointers the caller frees next.
//
// Threading: Start runs one thread. Handlers run on it (or, for a replay, on AddHandlers'
// caller), one at a time over all registrations, in event order; they must be quick (queue
// a key) and must not call Stop, AddHandlers or RemoveHandlers of this same informer (that
// would wait for itself: it aborts). They may call Get and List, and anything of other
// informers. Get and List may be called from any thread; the objects returned are
// immutable and shared.
// Cost: every event takes one uncontended mutex for dispatch besides the cache's.
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/client/resource_client.h"

namespace kite::client {

using ObjectPtr = std::shared_ptr<const rapidjson::Document>;

struct InformerHandlers {
  std::function<void(const ObjectPtr& object)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& object)> on_update;
  std::function<void(const ObjectPtr& object)> on_delete;
};

// "namespace/name", or "name" for cluster-scoped objects: the key work queues carry.
std::string ObjectKey(const rapidjson::Value& object);
std::string ObjectKey(std::string_view ns, std::string_view name);
// Splits a key back into namespace ("" when cluster-scoped) and name.
std::pair<std::string, std::string> SplitObjectKey(std::string_view key);

class Informer {
 public:
  // Identifies one AddHandlers registration; never 0.
  using HandlerId = uint64_t;

  // `ns` "" watches every namespace.
  Informer(ResourceClient client, std::string ns = "", ListOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Registers handlers, before or after Start (see the header comment for the replay of
  // cached objects). Not from a handler of this informer.
  HandlerId AddHandlers(InformerHandlers handlers);
  // Unregisters; when it returns no handler of `id` runs or will run. An unknown id is
  // ignored. Not from a handler of this informer.
  void RemoveHandlers(HandlerId id);

  // Starts the thread; a second call does nothing.
  void Start();
  // Stops the thread; no handler runs after it returns. Any thread but the informer's own;
  // concurrent calls are fine. A stopped informer does not start again.
  void Stop();
  // Asks the thread to stop without waiting (Stop then returns quickly): lets a factory
  // stop many informers in parallel.
  void RequestStop();

  // True once the first list has been delivered to the handlers.
  bool HasSynced() const { return synced_.load(); }
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  ObjectPtr Get(std::string_view key) const;
  ObjectPtr Get(std::string_view ns, std::string_view name) const { return Get(ObjectKey(ns, name)); }
  // Every cached object, or those of one namespace; in key order.
  std::vector<ObjectPtr> List(std::string_view ns = "") const;
  // The resourceVersion of the latest change seen (list or watch event).
  std::string LastResourceVersion() const;

  const ResourceClient& client() const { return client_; }

 private:
  struct Registration {
    HandlerId id;
    InformerHandlers handlers;
  };
  // How a watch ended.
  enum class WatchEnd {
    kEnded,    // the stream ended (or stop): watch again from the last version
    kRelist,   // the version is gone (410), an ERROR event or a bad line: list again now
    kFailed,   // the watch could not start: back off, then list again
  };

  void Run();
  // Lists and replaces the cache; false when stopping or the list failed.
  bool ListAndReplace();
  WatchEnd WatchOnce();
  // Sleeps `delay` unless stopped first; false when stopping.
  bool SleepUnlessStopped(std::chrono::milliseconds delay);
  // Cache change and its dispatch, together under dispatch_mu_ so that a late AddHandlers
  // sees a cache equal to what the other handlers were told.
  void Upsert(ObjectPtr object, std::string rv) REQUIRES(dispatch_mu_);
  void Remove(const std::string& key, ObjectPtr last_state, std::string rv) REQUIRES(dispatch_mu_);
  // Aborts when the calling thread is running this informer's handlers (a call that would
  // wait for itself).
  void CheckNotInHandler(const char* what) const;

  const ResourceClient client_;
  const std::string namespace_;
  const ListOptions options_;

  // Held while handlers run and while the cache changes: ordered before mu_.
  Mutex dispatch_mu_;
  std::vector<Registration> handlers_ GUARDED_BY(dispatch_mu_);
  HandlerId next_id_ GUARDED_BY(dispatch_mu_) = 1;

  mutable Mutex mu_;
  mutable CondVar synced_cv_;
  CondVar stop_cv_;  // wakes a back-off sleep on stop
  std::map<std::string, ObjectPtr, std::less<>> objects_ GUARDED_BY(mu_);
  std::string last_rv_ GUARDED_BY(mu_);

  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};  // written under mu_ (for stop_cv_), read anywhere

  Mutex thread_mu_;  // Start and Stop
  bool started_ GUARDED_BY(thread_mu_) = false;
  std::thread thread_ GUARDED_BY(thread_mu_);
};

}  // namespace kite::client
