// Informer: an in-memory copy of every object of one resource (optionally narrowed by
// namespace and selectors), kept current by list + watch, with callbacks on every change.
// Controllers read from it instead of asking the API server, and queue work from its
// callbacks.
//
// Behaviour (as client-go's reflector): list, then watch from the list's resourceVersion;
// when the watch ends, watch again from the last seen version; when that version is gone
// (410) or the watch fails, list again and report the difference as adds, updates and
// deletes, so handlers converge whatever was missed.
//
// Threading: Start runs one thread. Handlers run on it, one at a time, in event order; they
// must be quick (queue a key) and must not call Stop. Get and List may be called from any
// thread; the objects returned are immutable and shared.
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
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
  // `ns` "" watches every namespace.
  Informer(ResourceClient client, std::string ns = "", ListOptions options = {});
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Before Start.
  void AddHandlers(InformerHandlers handlers);
  void Start();
  // Stops the thread; no handler runs after it returns.
  void Stop();
  // Asks the thread to stop without waiting (Stop then returns quickly): lets a factory
  // stop many informers in parallel.
  void RequestStop() { stop_ = true; }

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
  void Run();
  // Lists and replaces the cache; false when stopping or the list failed.
  bool ListAndReplace();
  // Watches from last_rv_ until the watch ends; false when a new list is needed.
  bool WatchOnce();
  void Upsert(ObjectPtr object);
  void Remove(const std::string& key, ObjectPtr last_state);

  const ResourceClient client_;
  const std::string namespace_;
  const ListOptions options_;
  std::vector<InformerHandlers> handlers_;

  mutable Mutex mu_;
  mutable CondVar synced_cv_;
  std::map<std::string, ObjectPtr, std::less<>> objects_ GUARDED_BY(mu_);
  std::string last_rv_ GUARDED_BY(mu_);

  std::atomic<bool> synced_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kite::client
