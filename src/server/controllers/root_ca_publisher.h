// The root CA publisher (Kubernetes' pkg/controller/certificates/rootcacertpublisher):
// keeps a ConfigMap "kube-root-ca.crt" in every namespace, with data "ca.crt" = the cluster
// CA certificate (PEM) and the annotation kubernetes.io/description saying what it is for,
// so pods can verify the API server at kubernetes.default.svc.
//
// Operation, per namespace: nothing while the namespace is being deleted; creates the
// ConfigMap when missing; when its data differs from {"ca.crt": <pem>} exactly, or the
// description annotation is missing, writes them back (other fields are left as they are).
// A ConfigMap of that name that is deleted or changed queues its namespace again.
//
// Thread-safety: Register once before the informers start; Reconcile from any number of
// workers.
#pragma once

#include <optional>
#include <string>

#include "src/server/controllers/controller.h"

namespace kite::controllers {

inline constexpr char kRootCaConfigMapName[] = "kube-root-ca.crt";
inline constexpr char kRootCaDescription[] =
    "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints "
    "such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across "
    "distributions of Kubernetes clusters.";

class RootCaPublisher final : public Controller {
 public:
  // `ca_pem`: the cluster CA certificate, PEM-encoded.
  explicit RootCaPublisher(std::string ca_pem) : ca_pem_(std::move(ca_pem)) {}

  std::string_view Name() const override { return "root-ca-cert-publisher"; }
  void Register(client::InformerFactory& informers, WorkQueue& queue) override;
  // `key` is a namespace name.
  Status Reconcile(const std::string& key) override;

 private:
  const std::string ca_pem_;
  client::Informer* namespaces_ = nullptr;
  client::Informer* config_maps_ = nullptr;
  std::optional<client::ResourceClient> client_;
};

}  // namespace kite::controllers
