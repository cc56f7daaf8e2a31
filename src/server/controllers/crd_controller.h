// CustomResourceDefinitions: accepts their names and marks them Established (which makes
// the API server serve their resources), and on deletion removes every custom object of
// the CRD before letting the CRD go (the customresourcecleanup finalizer), as Kubernetes'
// naming, establishing and finalizing controllers do. Queue keys are CRD names.
#pragma once

#include "src/server/controllers/controller.h"

namespace kite::controllers {

class CrdController final : public Controller {
 public:
  std::string_view Name() const override { return "customresourcedefinition"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  Status Reconcile(const std::string& name) override;

 private:
  Status CleanUp(const rapidjson::Value& crd);

  client::Informer* crds_ = nullptr;
  client::InformerFactory* informers_ = nullptr;
};

}  // namespace kite::controllers
