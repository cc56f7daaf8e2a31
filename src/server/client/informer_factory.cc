#include "src/server/client/informer_factory.h"

#include <vector>

namespace kite::client {

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this == &other) return *this;
  Reset();
  factory_ = other.factory_;
  key_ = std::move(other.key_);
  informer_ = std::move(other.informer_);
  id_ = other.id_;
  other.factory_ = nullptr;
  other.informer_ = nullptr;
  other.id_ = 0;
  return *this;
}

void Subscription::Reset() {
  if (!informer_) return;
  informer_->RemoveHandlers(id_);
  factory_->Release(key_);
  // The factory stopped the informer if this was its last subscription; the object goes
  // with the last reference (this one, or StopAll's while it runs).
  informer_.reset();
  factory_ = nullptr;
  id_ = 0;
}

InformerFactory::Entry& InformerFactory::EntryFor(const ResourceRef& ref) {
  Entry& entry = informers_[{ref.group, ref.version, ref.resource}];
  if (!entry.informer) {
    entry.informer = std::make_shared<Informer>(ResourceClient(transport_, ref));
    if (started_ && !stopped_) entry.informer->Start();
  }
  return entry;
}

Informer& InformerFactory::For(const ResourceRef& ref) {
  MutexLock lock(mu_);
  Entry& entry = EntryFor(ref);
  entry.permanent = true;
  return *entry.informer;
}

Subscription InformerFactory::Subscribe(const ResourceRef& ref, InformerHandlers handlers) {
  Key key{ref.group, ref.version, ref.resource};
  std::shared_ptr<Informer> informer;
  {
    MutexLock lock(mu_);
    Entry& entry = EntryFor(ref);
    ++entry.subscriptions;  // keeps the entry while the handlers are added
    informer = entry.informer;
  }
  // Outside the lock: the replay of cached objects runs handlers, which may use the factory.
  Informer::HandlerId id = informer->AddHandlers(std::move(handlers));
  return Subscription(this, std::move(key), std::move(informer), id);
}

void InformerFactory::Release(const Key& key) {
  std::shared_ptr<Informer> unused;
  {
    MutexLock lock(mu_);
    auto it = informers_.find(key);
    if (it == informers_.end()) return;  // can't happen: a subscription keeps its entry
    if (--it->second.subscriptions > 0 || it->second.permanent) return;
    unused = std::move(it->second.informer);
    informers_.erase(it);
  }
  // Outside the lock: the informer's handlers may be waiting for it.
  unused->Stop();
}

bool InformerFactory::Has(const ResourceRef& ref) {
  MutexLock lock(mu_);
  return informers_.count({ref.group, ref.version, ref.resource}) > 0;
}

void InformerFactory::StartAll() {
  MutexLock lock(mu_);
  if (stopped_) return;
  started_ = true;
  for (auto& [key, entry] : informers_) entry.informer->Start();
}

bool InformerFactory::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::shared_ptr<Informer>> permanent;
  {
    MutexLock lock(mu_);
    for (auto& [key, entry] : informers_) {
      if (entry.permanent) permanent.push_back(entry.informer);
    }
  }
  for (const auto& informer : permanent) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!informer->WaitForSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

void InformerFactory::StopAll() {
  std::vector<std::shared_ptr<Informer>> all;
  {
    MutexLock lock(mu_);
    stopped_ = true;
    for (auto& [key, entry] : informers_) all.push_back(entry.informer);
  }
  for (const auto& informer : all) informer->RequestStop();
  for (const auto& informer : all) informer->Stop();
}

}  // namespace kite::client
