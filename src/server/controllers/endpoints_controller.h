// Endpoints and EndpointSlices for Services with a selector, as Kubernetes' endpoints and
// endpointslice controllers keep them: the pods the selector matches that have an IP,
// split into ready and not-ready addresses (terminating pods left out of Endpoints and
// marked terminating in slices), with each service port's targetPort resolved per pod
// (named ports are looked up in the pod's containers). Endpoints carry the Service's name;
// slices are named <service>-<suffix>, labelled kubernetes.io/service-name and owned by the
// Service (so the garbage collector removes them with it), at most 100 endpoints each.
// Services without a selector are left to whoever manages their endpoints.
// Queue keys are Service keys ("namespace/name").
#pragma once

#include "src/server/controllers/controller.h"

namespace kite::controllers {

class EndpointsController final : public Controller {
 public:
  std::string_view Name() const override { return "endpoints"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& service_key) override;
  int Workers() const override { return 2; }

 private:
  // Queues the Services in the pod's namespace whose selectors match it (before or after).
  void QueueServicesOf(const rapidjson::Value& pod, WorkQueue& queue) const;
  Status SyncEndpoints(const rapidjson::Value& service, const std::vector<client::ObjectPtr>& pods);
  Status SyncSlices(const rapidjson::Value& service, const std::vector<client::ObjectPtr>& pods);

  client::Informer* services_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Informer* endpoints_ = nullptr;
  client::Informer* slices_ = nullptr;
  std::optional<client::ResourceClient> endpoints_client_;
  std::optional<client::ResourceClient> slices_client_;
};

}  // namespace kite::controllers
