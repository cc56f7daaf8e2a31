// Printers for networking, discovery, storage, RBAC, scheduling, coordination, node,
// admission and certificates kinds.
#include <string>
#include <vector>

#include "src/server/tables/human_duration.h"
#include "src/server/tables/json_fields.h"
#include "src/server/tables/kind_printers.h"
#include "src/server/tables/label_format.h"
#include "src/server/tables/print_helpers.h"

namespace kite::tables::internal {
namespace {

using rapidjson::Value;


// ---------------------------------------------------------------------------------------------
// networking.k8s.io, discovery.k8s.io

void PrintIngress(const Value& ing, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&ing, "spec");
  const Value* class_name = Get(spec, "ingressClassName");
  // Up to three hosts; rules without a host are skipped but still counted in "N more".
  constexpr size_t kMax = 3;
  const Value& rules = Arr(Get(spec, "rules"));
  std::vector<std::string> hosts;
  bool more = false;
  for (auto& rule : rules.GetArray()) {
    if (hosts.size() == kMax) more = true;
    if (!more && !Str(Get(&rule, "host")).empty()) hosts.emplace_back(Str(Get(&rule, "host")));
  }
  std::string host_cell = hosts.empty() ? "*" : Join(hosts, ",");
  if (!hosts.empty() && more) host_cell += " + " + std::to_string(rules.Size() - kMax) + " more...";

  row.String(Name(ing));
  row.String(class_name != nullptr && class_name->IsString() ? std::string(Str(class_name))
                                                             : "<none>");
  row.String(host_cell);
  row.String(LoadBalancerAddresses(Dig(&ing, "status", "loadBalancer")));
  row.String(Count(Get(spec, "tls")) > 0 ? "80, 443" : "80");
  row.String(CreationAge(ing, ctx));
}

void PrintIngressClass(const Value& ic, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&ic, "spec");
  std::string parameters = "<none>";
  if (const Value* p = Get(spec, "parameters"); IsObject(p)) {
    parameters = Str(Get(p, "kind"));
    if (const Value* group = Get(p, "apiGroup"); group != nullptr && group->IsString()) {
      parameters += "." + std::string(Str(group));
    }
    parameters += "/" + std::string(Str(Get(p, "name")));
  }
  row.String(Name(ic));
  row.String(Str(Get(spec, "controller")));
  row.String(parameters);
  row.String(CreationAge(ic, ctx));
}

void PrintNetworkPolicy(const Value& np, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(np));
  row.String(FormatLabelSelector(Dig(&np, "spec", "podSelector")));
  row.String(CreationAge(np, ctx));
}

void PrintEndpointSlice(const Value& es, const PrintContext& ctx, RowWriter& row) {
  constexpr size_t kMax = 3;
  std::vector<std::string> ports;
  bool more = false;
  size_t count = 0;
  for (auto& p : Arr(Get(&es, "ports")).GetArray()) {
    if (ports.size() < kMax) {
      if (auto n = Int(Get(&p, "port"))) {
        ports.push_back(std::to_string(*n));
      } else if (const Value* name = Get(&p, "name"); name != nullptr && name->IsString()) {
        ports.emplace_back(Str(name));
      } else {
        ports.push_back("*");
      }
    } else {
      more = true;
    }
    ++count;
  }
  std::vector<std::string> addresses;
  bool more_addresses = false;
  size_t address_count = 0;
  for (auto& ep : Arr(Get(&es, "endpoints")).GetArray()) {
    for (auto& a : Arr(Get(&ep, "addresses")).GetArray()) {
      if (addresses.size() < kMax) {
        addresses.emplace_back(Str(&a));
      } else {
        more_addresses = true;
      }
      ++address_count;
    }
  }
  row.String(Name(es));
  row.String(Str(Get(&es, "addressType")));
  row.String(ListWithMore(ports, more, count, kMax));
  row.String(ListWithMore(addresses, more_addresses, address_count, kMax));
  row.String(CreationAge(es, ctx));
}

// ---------------------------------------------------------------------------------------------
// storage.k8s.io

void PrintStorageClass(const Value& sc, const PrintContext& ctx, RowWriter& row) {
  const Value* annotations = Dig(&sc, "metadata", "annotations");
  std::string name(Name(sc));
  if (Str(Get(annotations, "storageclass.kubernetes.io/is-default-class")) == "true" ||
      Str(Get(annotations, "storageclass.beta.kubernetes.io/is-default-class")) == "true") {
    name += " (default)";
  }
  std::string reclaim(Str(Get(&sc, "reclaimPolicy")));
  std::string binding(Str(Get(&sc, "volumeBindingMode")));
  row.String(name);
  row.String(Str(Get(&sc, "provisioner")));
  row.String(reclaim.empty() ? "Delete" : reclaim);
  row.String(binding.empty() ? "Immediate" : binding);
  row.Bool(Bool(Get(&sc, "allowVolumeExpansion")));
  row.String(CreationAge(sc, ctx));
}

void PrintCSINode(const Value& node, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(node));
  row.Int(static_cast<int64_t>(Count(Dig(&node, "spec", "drivers"))));
  row.String(CreationAge(node, ctx));
}

void PrintVolumeAttachment(const Value& va, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&va, "spec");
  row.String(Name(va));
  row.String(Str(Get(spec, "attacher")));
  row.String(Str(Dig(spec, "source", "persistentVolumeName")));
  row.String(Str(Get(spec, "nodeName")));
  row.Bool(Bool(Dig(&va, "status", "attached")));
  row.String(CreationAge(va, ctx));
}

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io

void PrintBinding(const Value& binding, const PrintContext& ctx, RowWriter& row) {
  const Value* ref = Get(&binding, "roleRef");
  std::vector<std::string> users, groups, service_accounts;
  for (auto& s : Arr(Get(&binding, "subjects")).GetArray()) {
    const std::string_view kind = Str(Get(&s, "kind"));
    if (kind == "ServiceAccount") {
      service_accounts.push_back(std::string(Str(Get(&s, "namespace"))) + "/" +
                                 std::string(Str(Get(&s, "name"))));
    } else if (kind == "User") {
      users.emplace_back(Str(Get(&s, "name")));
    } else if (kind == "Group") {
      groups.emplace_back(Str(Get(&s, "name")));
    }
  }
  row.String(Name(binding));
  row.String(std::string(Str(Get(ref, "kind"))) + "/" + std::string(Str(Get(ref, "name"))));
  row.String(CreationAge(binding, ctx));
  row.String(Join(users, ", "));
  row.String(Join(groups, ", "));
  row.String(Join(service_accounts, ", "));
}

// ---------------------------------------------------------------------------------------------
// scheduling, coordination, node, admissionregistration, certificates

void PrintPriorityClass(const Value& pc, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(pc));
  row.Int(IntOr(Get(&pc, "value"), 0));
  row.Bool(Bool(Get(&pc, "globalDefault")));
  row.String(CreationAge(pc, ctx));
  row.String(Str(Get(&pc, "preemptionPolicy")));
}

void PrintLease(const Value& lease, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(lease));
  row.String(Str(Dig(&lease, "spec", "holderIdentity")));
  row.String(CreationAge(lease, ctx));
}

void PrintRuntimeClass(const Value& rc, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(rc));
  row.String(Str(Get(&rc, "handler")));
  row.String(CreationAge(rc, ctx));
}

void PrintWebhookConfiguration(const Value& cfg, const PrintContext& ctx, RowWriter& row) {
  row.String(Name(cfg));
  row.Int(static_cast<int64_t>(Count(Get(&cfg, "webhooks"))));
  row.String(CreationAge(cfg, ctx));
}

void PrintCSR(const Value& csr, const PrintContext& ctx, RowWriter& row) {
  const Value* spec = Get(&csr, "spec");
  bool approved = false, denied = false, failed = false;
  for (auto& c : Arr(Dig(&csr, "status", "conditions")).GetArray()) {
    const std::string_view type = Str(Get(&c, "type"));
    approved |= type == "Approved";
    denied |= type == "Denied";
    failed |= type == "Failed";
  }
  std::string state = denied ? "Denied" : approved ? "Approved" : "Pending";
  if (failed) state += ",Failed";
  if (!Str(Dig(&csr, "status", "certificate")).empty()) state += ",Issued";
  const std::string_view signer = Str(Get(spec, "signerName"));
  const auto expiration = Int(Get(spec, "expirationSeconds"));
  row.String(Name(csr));
  row.String(CreationAge(csr, ctx));
  row.String(signer.empty() ? "<none>" : signer);
  row.String(Str(Get(spec, "username")));
  row.String(expiration ? HumanDuration(std::chrono::seconds(*expiration)) : "<none>");
  row.String(state);
}

}  // namespace

void AddClusterPrinters(std::vector<KindPrinter>& out) {
  out.push_back({"networking.k8s.io", "Ingress",
                 {kName, Col("Class", "string", "Ingress class."),
                  Col("Hosts", "string", "Hosts the rules match."),
                  Col("Address", "string", "Load balancer addresses."),
                  Col("Ports", "string", "Ports served: 80, and 443 with TLS."), kAge},
                 PrintIngress});
  out.push_back({"networking.k8s.io", "IngressClass",
                 {kName, Col("Controller", "string", "Controller implementing the class."),
                  Col("Parameters", "string", "Parameters resource, kind[.group]/name."), kAge},
                 PrintIngressClass});
  out.push_back({"networking.k8s.io", "NetworkPolicy",
                 {kName, Col("Pod-Selector", "string", "Pods the policy applies to."), kAge},
                 PrintNetworkPolicy});
  out.push_back({"discovery.k8s.io", "EndpointSlice",
                 {kName, Col("AddressType", "string", "IPv4, IPv6 or FQDN."),
                  Col("Ports", "string", "Up to three ports."),
                  Col("Endpoints", "string", "Up to three endpoint addresses."), kAge},
                 PrintEndpointSlice});
  out.push_back({"storage.k8s.io", "StorageClass",
                 {kName, Col("Provisioner", "string", "Volume provisioner."),
                  Col("ReclaimPolicy", "string", "Reclaim policy of provisioned volumes."),
                  Col("VolumeBindingMode", "string", "When volumes are bound."),
                  Col("AllowVolumeExpansion", "string", "Whether volumes may grow."), kAge},
                 PrintStorageClass});
  out.push_back({"storage.k8s.io", "CSINode",
                 {kName, Col("Drivers", "integer", "CSI drivers registered on the node."), kAge},
                 PrintCSINode});
  out.push_back({"storage.k8s.io", "VolumeAttachment",
                 {kName, ColumnDef{"Attacher", "string", "name", "Attaching driver.", 0},
                  Col("PV", "string", "Attached persistent volume."),
                  Col("Node", "string", "Node attached to."),
                  Col("Attached", "boolean", "Whether the volume is attached."), kAge},
                 PrintVolumeAttachment});
  const std::vector<ColumnDef> binding_columns = {
      kName,
      Col("Role", "string", "The bound role, kind/name."),
      kAge,
      Col("Users", "string", "Bound users.", 1),
      Col("Groups", "string", "Bound groups.", 1),
      Col("ServiceAccounts", "string", "Bound service accounts, namespace/name.", 1)};
  out.push_back({"rbac.authorization.k8s.io", "RoleBinding", binding_columns, PrintBinding});
  out.push_back(
      {"rbac.authorization.k8s.io", "ClusterRoleBinding", binding_columns, PrintBinding});
  out.push_back({"scheduling.k8s.io", "PriorityClass",
                 {kName, Col("Value", "integer", "Priority value."),
                  Col("Global-Default", "boolean", "Whether pods get this class by default."),
                  kAge, Col("PreemptionPolicy", "string", "Whether pods may preempt others.")},
                 PrintPriorityClass});
  out.push_back({"coordination.k8s.io", "Lease",
                 {kName, Col("Holder", "string", "Current holder of the lease."), kAge},
                 PrintLease});
  out.push_back({"node.k8s.io", "RuntimeClass",
                 {kName, Col("Handler", "string", "Runtime handler."), kAge},
                 PrintRuntimeClass});
  const std::vector<ColumnDef> webhook_columns = {
      kName, Col("Webhooks", "integer", "Webhooks in the configuration."), kAge};
  out.push_back({"admissionregistration.k8s.io", "MutatingWebhookConfiguration",
                 webhook_columns, PrintWebhookConfiguration});
  out.push_back({"admissionregistration.k8s.io", "ValidatingWebhookConfiguration",
                 webhook_columns, PrintWebhookConfiguration});
  out.push_back({"certificates.k8s.io", "CertificateSigningRequest",
                 {kName, kAge, Col("SignerName", "string", "Requested signer."),
                  Col("Requestor", "string", "User who created the request."),
                  Col("RequestedDuration", "string", "Requested certificate lifetime."),
                  Col("Condition", "string", "Approval state.")},
                 PrintCSR});
}

}  // namespace kite::tables::internal
