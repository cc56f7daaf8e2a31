// Every namespace has a ServiceAccount named "default" (Kubernetes' serviceaccounts
// controller): created when the namespace appears, re-created if deleted, left alone while
// the namespace is terminating.
#pragma once

#include "src/server/controllers/controller.h"

namespace kite::controllers {

class ServiceAccountController final : public Controller {
 public:
  std::string_view Name() const override { return "serviceaccount"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is a namespace name.
  Status Reconcile(const std::string& key) override;

 private:
  client::Informer* namespaces_ = nullptr;
  client::Informer* service_accounts_ = nullptr;
  std::optional<client::ResourceClient> client_;
};

}  // namespace kite::controllers
