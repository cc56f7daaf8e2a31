#include "src/server/controllers/default_controllers.h"

#include <iostream>

#include "src/server/controllers/crd_controller.h"
#include "src/server/controllers/cron_job_controller.h"
#include "src/server/controllers/daemon_set_controller.h"
#include "src/server/controllers/deployment_controller.h"
#include "src/server/controllers/endpoints_controller.h"
#include "src/server/controllers/garbage_collector.h"
#include "src/server/controllers/horizontal_pod_autoscaler.h"
#include "src/server/controllers/job_controller.h"
#include "src/server/controllers/local_path_provisioner.h"
#include "src/server/controllers/namespace_controller.h"
#include "src/server/controllers/node_ipam_controller.h"
#include "src/server/controllers/node_lifecycle_controller.h"
#include "src/server/controllers/persistent_volume_binder.h"
#include "src/server/controllers/replica_set_controller.h"
#include "src/server/controllers/resource_quota_controller.h"
#include "src/server/controllers/root_ca_publisher.h"
#include "src/server/controllers/service_account_controller.h"
#include "src/server/controllers/stateful_set_controller.h"

namespace kite::controllers {

std::vector<std::unique_ptr<Controller>> DefaultControllers(const DefaultControllersOptions& options) {
  auto recorder = [&](const char* component) {
    return options.events ? options.events->NewRecorder({component, ""}) : client::EventRecorder();
  };
  const Clock* clock = SystemClock::Get();
  std::vector<std::unique_ptr<Controller>> all;
  all.push_back(std::make_unique<ServiceAccountController>());
  all.push_back(std::make_unique<GarbageCollector>(BuiltinGcResources()));
  NodeLifecycleOptions node_lifecycle;
  node_lifecycle.recorder = recorder("node-controller");
  all.push_back(std::make_unique<NodeLifecycleController>(std::move(node_lifecycle)));
  if (!options.cluster_cidr.empty()) {
    NodeIpamOptions ipam;
    ipam.cluster_cidr = options.cluster_cidr;
    ipam.node_mask_size = options.node_cidr_mask_size;
    ipam.service_cidr = options.service_cidr;
    ipam.recorder = recorder("cidrAllocator");
    Result<std::unique_ptr<NodeIpamController>> node_ipam = NodeIpamController::Create(std::move(ipam));
    if (node_ipam.ok()) {
      all.push_back(std::move(node_ipam).value());
    } else {
      std::cerr << "kite: node IPAM disabled: " << node_ipam.status().message() << "\n";
    }
  }
  all.push_back(std::make_unique<EndpointsController>());
  all.push_back(std::make_unique<CrdController>());
  all.push_back(std::make_unique<ReplicaSetController>(clock, recorder("replicaset-controller")));
  all.push_back(std::make_unique<DeploymentController>(clock, recorder("deployment-controller")));
  all.push_back(std::make_unique<StatefulSetController>(clock, recorder("statefulset-controller")));
  all.push_back(std::make_unique<DaemonSetController>(clock, recorder("daemonset-controller")));
  JobController::Options jobs;
  jobs.recorder = recorder("job-controller");
  all.push_back(std::make_unique<JobController>(std::move(jobs)));
  CronJobController::Options cron_jobs;
  cron_jobs.recorder = recorder("cronjob-controller");
  all.push_back(std::make_unique<CronJobController>(std::move(cron_jobs)));
  all.push_back(std::make_unique<NamespaceController>());
  all.push_back(std::make_unique<ResourceQuotaController>());
  all.push_back(std::make_unique<HorizontalPodAutoscalerController>());
  all.push_back(std::make_unique<PersistentVolumeBinder>());
  all.push_back(std::make_unique<LocalPathProvisioner>());
  if (!options.root_ca_pem.empty()) all.push_back(std::make_unique<RootCaPublisher>(options.root_ca_pem));
  return all;
}

}  // namespace kite::controllers
