#include "src/server/controllers/controller_manager.h"

#include <iostream>

namespace kite::controllers {

namespace {
constexpr std::chrono::milliseconds kConflictBackOffCap{1000};
}  // namespace

ControllerManager::ControllerManager(client::ApiTransport* transport) : informers_(transport) {}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::Add(std::unique_ptr<Controller> controller) {
  auto running = std::make_unique<Running>();
  running->controller = std::move(controller);
  running->queue = std::make_unique<WorkQueue>();
  controllers_.push_back(std::move(running));
}

Status ControllerManager::Start(std::chrono::milliseconds sync_timeout) {
  for (auto& running : controllers_) running->controller->Register(informers_, *running->queue);
  informers_.StartAll();
  if (!informers_.WaitForSync(sync_timeout)) {
    return Status(StatusCode::kUnavailable, "the controllers' caches did not fill in time");
  }
  for (auto& running : controllers_) {
    for (int i = 0; i < running->controller->Workers(); ++i) {
      Running* r = running.get();
      running->workers.emplace_back([this, r] { Work(*r); });
    }
  }
  return Status();
}

void ControllerManager::Work(Running& running) {
  while (std::optional<std::string> key = running.queue->Get()) {
    Status s = running.controller->Reconcile(*key);
    if (s.ok()) {
      running.queue->Forget(*key);
    } else {
      // Conflicts are the normal outcome of racing writers: retry quietly.
      if (s.code() != StatusCode::kConflict && running.queue->Retries(*key) >= 3) {
        std::cerr << "kite: " << running.controller->Name() << " " << *key << ": " << s.message() << "\n";
      }
      // A conflict means a cache behind the store, which catches up within moments: retry
      // soon however often it happened (a long back-off would outlast the lag by far).
      running.queue->AddRateLimited(*key, s.code() == StatusCode::kConflict ? kConflictBackOffCap
                                                                             : std::chrono::milliseconds::max());
    }
    running.queue->Done(*key);
  }
}

void ControllerManager::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& running : controllers_) running->queue->ShutDown();
  for (auto& running : controllers_) {
    for (auto& t : running->workers) t.join();
  }
  informers_.StopAll();
}

}  // namespace kite::controllers
