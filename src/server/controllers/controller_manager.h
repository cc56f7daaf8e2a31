// Runs the controllers of `kite server`: one shared informer factory over an in-process
// transport, one work queue and worker threads per controller.
//
// Operation: Start registers every controller, starts the informers, waits for their first
// list (so no controller acts on a half-filled cache), then starts the workers. Stop shuts
// the queues down, joins the workers and stops the informers; no controller writes after it
// returns.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "src/server/controllers/controller.h"

namespace kite::controllers {

class ControllerManager {
 public:
  // `transport` must outlive the manager.
  explicit ControllerManager(client::ApiTransport* transport);
  ~ControllerManager();

  void Add(std::unique_ptr<Controller> controller);
  Status Start(std::chrono::milliseconds sync_timeout = std::chrono::seconds(30));
  void Stop();

  client::InformerFactory& informers() { return informers_; }

 private:
  struct Running {
    // Declared before the controller, so destroyed after it: the controller's handlers
    // (and subscriptions it releases when destroyed) point at the queue.
    std::unique_ptr<WorkQueue> queue;
    std::unique_ptr<Controller> controller;
    std::vector<std::thread> workers;
  };
  void Work(Running& running);

  // Declared before the controllers, so destroyed after them: controllers release their
  // subscriptions into it.
  client::InformerFactory informers_;
  std::vector<std::unique_ptr<Running>> controllers_;
  bool stopped_ = false;
};

}  // namespace kite::controllers
