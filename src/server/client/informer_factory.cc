#include "src/server/client/informer_factory.h"

namespace kite::client {

Informer& InformerFactory::For(const ResourceRef& ref) {
  MutexLock lock(mu_);
  auto& slot = informers_[{ref.group, ref.version, ref.resource}];
  if (!slot) {
    slot = std::make_unique<Informer>(ResourceClient(transport_, ref));
    if (started_) slot->Start();
  }
  return *slot;
}

void InformerFactory::StartAll() {
  MutexLock lock(mu_);
  started_ = true;
  for (auto& [ref, informer] : informers_) informer->Start();
}

bool InformerFactory::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<Informer*> all;
  {
    MutexLock lock(mu_);
    for (auto& [ref, informer] : informers_) all.push_back(informer.get());
  }
  for (Informer* informer : all) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (!informer->WaitForSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

void InformerFactory::StopAll() {
  std::vector<Informer*> all;
  {
    MutexLock lock(mu_);
    for (auto& [ref, informer] : informers_) all.push_back(informer.get());
  }
  for (Informer* informer : all) informer->RequestStop();
  for (Informer* informer : all) informer->Stop();
}

}  // namespace kite::client
