// One informer per resource, shared by every controller that reads it (so each resource is
// listed and watched once, and cached once). Two ways to use one:
//  - For(ref): a permanent informer, for built-in resources that are always served. It
//    lives as long as the factory; handlers are added on it directly.
//  - Subscribe(ref, handlers): for a resource that can disappear (a CRD's). The returned
//    Subscription holds the handlers; when the last subscription of an informer goes, the
//    informer is stopped and destroyed — unless For was also called for that ref, which
//    makes it permanent.
//
// Starting: informers that exist when StartAll is called start then; any created after it
// (by For or Subscribe) start at once; none starts after StopAll.
//
// Thread-safety: every method may be called from any thread, including informer handlers —
// except that a handler must not drop the last Subscription of its own informer (stopping
// it would wait for itself). Dropping a subscription stops another informer's thread, which
// takes up to a few hundred milliseconds. A handler of informer A that subscribes to or
// drops informer B (as the controllers' CRD handlers do) holds A's dispatch while it waits
// for B's: B's handlers must never do the same to A. Every Subscription must be reset
// before the factory is destroyed.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "src/base/mutex.h"
#include "src/server/client/informer.h"

namespace kite::client {

class InformerFactory;

// Handlers registered on a shared informer by InformerFactory::Subscribe (RAII, movable).
// Destroying or resetting it removes the handlers — none runs after that returns — and
// releases the informer. It gives access to the informer (Get, List, HasSynced, ...) while
// it is held.
// Thread-safety: like a unique_ptr: one owner; the informer itself is thread-safe.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept { *this = std::move(other); }
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  ~Subscription() { Reset(); }

  // Unsubscribes now (nothing when empty).
  void Reset();
  explicit operator bool() const { return informer_ != nullptr; }
  // The informer; only while subscribed.
  Informer& informer() const { return *informer_; }
  Informer* operator->() const { return informer_.get(); }

 private:
  friend class InformerFactory;
  using Key = std::tuple<std::string, std::string, std::string>;
  Subscription(InformerFactory* factory, Key key, std::shared_ptr<Informer> informer, Informer::HandlerId id)
      : factory_(factory), key_(std::move(key)), informer_(std::move(informer)), id_(id) {}

  InformerFactory* factory_ = nullptr;
  Key key_;
  std::shared_ptr<Informer> informer_;
  Informer::HandlerId id_ = 0;
};

class InformerFactory {
 public:
  // `transport` must outlive the factory.
  explicit InformerFactory(ApiTransport* transport) : transport_(transport) {}
  ~InformerFactory() { StopAll(); }
  InformerFactory(const InformerFactory&) = delete;
  InformerFactory& operator=(const InformerFactory&) = delete;

  // The shared informer of `ref` (every namespace, no selector); it lives as long as the
  // factory.
  Informer& For(const ResourceRef& ref);
  // Registers `handlers` on the shared informer of `ref` (created, and started when the
  // factory has started, if there is none); they get on_add for every object already cached
  // (see Informer::AddHandlers). Never an empty Subscription.
  Subscription Subscribe(const ResourceRef& ref, InformerHandlers handlers);
  ResourceClient ClientFor(const ResourceRef& ref) const { return ResourceClient(transport_, ref); }

  // Whether an informer of `ref` exists now (permanent or subscribed).
  bool Has(const ResourceRef& ref);

  void StartAll();
  // True when every informer handed out by For synced within `timeout` (subscribers check
  // HasSynced themselves: their resource may not be served yet).
  bool WaitForSync(std::chrono::milliseconds timeout);
  void StopAll();

 private:
  friend class Subscription;
  using Key = Subscription::Key;
  struct Entry {
    std::shared_ptr<Informer> informer;
    bool permanent = false;  // For was called
    int subscriptions = 0;
  };

  // The entry of `ref`, created (and started when due) if missing.
  Entry& EntryFor(const ResourceRef& ref) REQUIRES(mu_);
  // One subscription of `key` went (its handlers are already removed).
  void Release(const Key& key);

  ApiTransport* transport_;
  Mutex mu_;
  bool started_ GUARDED_BY(mu_) = false;
  bool stopped_ GUARDED_BY(mu_) = false;
  std::map<Key, Entry> informers_ GUARDED_BY(mu_);
};

}  // namespace kite::client
