#include "src/server/controllers/default_controllers.h"

#include "src/server/controllers/crd_controller.h"
#include "src/server/controllers/cron_job_controller.h"
#include "src/server/controllers/daemon_set_controller.h"
#include "src/server/controllers/deployment_controller.h"
#include "src/server/controllers/endpoints_controller.h"
#include "src/server/controllers/garbage_collector.h"
#include "src/server/controllers/job_controller.h"
#include "src/server/controllers/namespace_controller.h"
#include "src/server/controllers/node_lifecycle_controller.h"
#include "src/server/controllers/replica_set_controller.h"
#include "src/server/controllers/root_ca_publisher.h"
#include "src/server/controllers/service_account_controller.h"
#include "src/server/controllers/stateful_set_controller.h"

namespace kite::controllers {

std::vector<std::unique_ptr<Controller>> DefaultControllers(const DefaultControllersOptions& options) {
  std::vector<std::unique_ptr<Controller>> all;
  all.push_back(std::make_unique<ServiceAccountController>());
  all.push_back(std::make_unique<GarbageCollector>(BuiltinGcResources()));
  all.push_back(std::make_unique<NodeLifecycleController>());
  all.push_back(std::make_unique<EndpointsController>());
  all.push_back(std::make_unique<CrdController>());
  all.push_back(std::make_unique<ReplicaSetController>());
  all.push_back(std::make_unique<DeploymentController>());
  all.push_back(std::make_unique<StatefulSetController>());
  all.push_back(std::make_unique<DaemonSetController>());
  all.push_back(std::make_unique<JobController>());
  all.push_back(std::make_unique<CronJobController>());
  all.push_back(std::make_unique<NamespaceController>());
  if (!options.root_ca_pem.empty()) all.push_back(std::make_unique<RootCaPublisher>(options.root_ca_pem));
  return all;
}

}  // namespace kite::controllers
