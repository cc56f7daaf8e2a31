// What every controller is: a name, the informers it reads (registered on the shared
// factory, with callbacks that queue keys), and Reconcile(key), which reads the current
// state from the caches and writes the difference through the API. Reconcile is
// level-triggered: it must converge from whatever state it finds, so a missed event, a
// restart or a retry are all harmless.
#pragma once

#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/server/client/informer_factory.h"
#include "src/server/controllers/work_queue.h"

namespace kite::controllers {

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string_view Name() const = 0;
  // Registers informer handlers that add keys to `queue`. Called once, before the
  // informers start.
  virtual void Register(client::InformerFactory& informers, WorkQueue& queue) = 0;
  // Makes the object behind `key` ("namespace/name" or "name") what it should be. An error
  // retries the key with back-off; success forgets its back-off.
  virtual Status Reconcile(const std::string& key) = 0;
  // Worker threads for this controller.
  virtual int Workers() const { return 1; }
};

}  // namespace kite::controllers
