#include "src/server/controllers/default_controllers.h"

#include "src/server/controllers/crd_controller.h"
#include "src/server/controllers/deployment_controller.h"
#include "src/server/controllers/endpoints_controller.h"
#include "src/server/controllers/garbage_collector.h"
#include "src/server/controllers/node_lifecycle_controller.h"
#include "src/server/controllers/replica_set_controller.h"
#include "src/server/controllers/service_account_controller.h"

namespace kite::controllers {

std::vector<std::unique_ptr<Controller>> DefaultControllers() {
  std::vector<std::unique_ptr<Controller>> all;
  all.push_back(std::make_unique<ServiceAccountController>());
  all.push_back(std::make_unique<GarbageCollector>(BuiltinGcResources()));
  all.push_back(std::make_unique<NodeLifecycleController>());
  all.push_back(std::make_unique<EndpointsController>());
  all.push_back(std::make_unique<CrdController>());
  all.push_back(std::make_unique<ReplicaSetController>());
  all.push_back(std::make_unique<DeploymentController>());
  return all;
}

}  // namespace kite::controllers
