// BuiltinResources(): the data behind resource_table.h's declaration. Every entry mirrors
// what kube-apiserver 1.32 reports in discovery (kubectl api-resources -o wide).
#include <cstdio>
#include <cstdlib>

#include "src/server/resources/resource_table.h"

namespace kite::resources {
namespace {

using Strings = std::vector<std::string>;

const Strings kAllVerbs = {"create", "delete", "deletecollection", "get",
                           "list",   "patch",  "update",           "watch"};
const Strings kCreateOnly = {"create"};
const Strings kStatusVerbs = {"get", "patch", "update"};
const Strings kProxyVerbs = {"create", "delete", "get", "patch", "update"};
const Strings kStreamVerbs = {"create", "get"};  // exec, attach, portforward

// Which subresources an entry has, beyond its main resource.
SubresourceInfo StatusSub() { return {"status", "", "", "", kStatusVerbs}; }
SubresourceInfo ScaleSub() { return {"scale", "autoscaling", "v1", "Scale", kStatusVerbs}; }
SubresourceInfo Sub(std::string name, std::string kind, Strings verbs) {
  return {std::move(name), "", "", std::move(kind), std::move(verbs)};
}

class Builder {
 public:
  // One resource; the singular name is the lower-cased kind, as Kubernetes derives it.
  Builder& Add(std::string group, std::string version, std::string resource, std::string kind,
               bool namespaced, Strings verbs = kAllVerbs, Strings short_names = {},
               Strings categories = {}, std::vector<SubresourceInfo> subresources = {}) {
    ResourceInfo info;
    info.group = std::move(group);
    info.version = std::move(version);
    info.resource = std::move(resource);
    for (char c : kind) info.singular.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
    info.kind = std::move(kind);
    info.list_kind = info.kind + "List";
    info.namespaced = namespaced;
    info.verbs = std::move(verbs);
    info.short_names = std::move(short_names);
    info.categories = std::move(categories);
    for (SubresourceInfo& sub : subresources) {
      if (sub.kind.empty()) sub.kind = info.kind;  // status: the parent's kind
    }
    info.subresources = std::move(subresources);
    if (!stored_as_group_.empty() || !stored_as_version_.empty()) {
      info.storage_version_hash =
          StorageVersionHash(stored_as_group_, stored_as_version_, info.kind);
      stored_as_group_.clear();
      stored_as_version_.clear();
    }
    Status status = table_.Add(std::move(info));
    if (!status.ok()) {  // the built-in list is code: a bad entry is a programming error
      std::fprintf(stderr, "kite: bad built-in resource: %s\n", status.ToString().c_str());
      std::abort();
    }
    return *this;
  }

  // The next Add()'s objects are stored at another version (its storage version hash is
  // that version's); discovery shows the same hash wherever the same objects are served.
  Builder& StoredAs(std::string group, std::string version) {
    stored_as_group_ = std::move(group);
    stored_as_version_ = std::move(version);
    return *this;
  }

  ResourceTable Take() { return std::move(table_); }

 private:
  ResourceTable table_;
  std::string stored_as_group_, stored_as_version_;
};

constexpr bool kNamespaced = true;
constexpr bool kCluster = false;

}  // namespace

ResourceTable BuiltinResources() {
  Builder b;
  const Strings all = {"all"};

  // core/v1
  b.Add("", "v1", "bindings", "Binding", kNamespaced, kCreateOnly);
  b.Add("", "v1", "configmaps", "ConfigMap", kNamespaced, kAllVerbs, {"cm"});
  b.Add("", "v1", "endpoints", "Endpoints", kNamespaced, kAllVerbs, {"ep"});
  b.Add("", "v1", "events", "Event", kNamespaced, kAllVerbs, {"ev"});
  b.Add("", "v1", "limitranges", "LimitRange", kNamespaced, kAllVerbs, {"limits"});
  // Namespaces are deleted one at a time (the namespace controller empties each first).
  b.Add("", "v1", "namespaces", "Namespace", kCluster,
        {"create", "delete", "get", "list", "patch", "update", "watch"}, {"ns"}, {},
        {Sub("finalize", "", {"update"}), StatusSub()});
  b.Add("", "v1", "nodes", "Node", kCluster, kAllVerbs, {"no"}, {},
        {Sub("proxy", "NodeProxyOptions", kProxyVerbs), StatusSub()});
  b.Add("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", kNamespaced, kAllVerbs,
        {"pvc"}, {}, {StatusSub()});
  b.Add("", "v1", "persistentvolumes", "PersistentVolume", kCluster, kAllVerbs, {"pv"}, {},
        {StatusSub()});
  b.Add("", "v1", "pods", "Pod", kNamespaced, kAllVerbs, {"po"}, all,
        {Sub("attach", "PodAttachOptions", kStreamVerbs),
         Sub("binding", "Binding", kCreateOnly),
         Sub("ephemeralcontainers", "", kStatusVerbs),
         {"eviction", "policy", "v1", "Eviction", kCreateOnly},
         Sub("exec", "PodExecOptions", kStreamVerbs),
         Sub("log", "", {"get"}),
         Sub("portforward", "PodPortForwardOptions", kStreamVerbs),
         Sub("proxy", "PodProxyOptions", kProxyVerbs),
         StatusSub()});
  b.Add("", "v1", "podtemplates", "PodTemplate", kNamespaced);
  b.Add("", "v1", "replicationcontrollers", "ReplicationController", kNamespaced, kAllVerbs, {"rc"},
        all, {ScaleSub(), StatusSub()});
  b.Add("", "v1", "resourcequotas", "ResourceQuota", kNamespaced, kAllVerbs, {"quota"}, {},
        {StatusSub()});
  b.Add("", "v1", "secrets", "Secret", kNamespaced);
  b.Add("", "v1", "serviceaccounts", "ServiceAccount", kNamespaced, kAllVerbs, {"sa"}, {},
        {{"token", "authentication.k8s.io", "v1", "TokenRequest", kCreateOnly}});
  b.Add("", "v1", "services", "Service", kNamespaced, kAllVerbs, {"svc"}, all,
        {Sub("proxy", "ServiceProxyOptions", kProxyVerbs), StatusSub()});

  // apps/v1
  b.Add("apps", "v1", "controllerrevisions", "ControllerRevision", kNamespaced);
  b.Add("apps", "v1", "daemonsets", "DaemonSet", kNamespaced, kAllVerbs, {"ds"}, all,
        {StatusSub()});
  b.Add("apps", "v1", "deployments", "Deployment", kNamespaced, kAllVerbs, {"deploy"}, all,
        {ScaleSub(), StatusSub()});
  b.Add("apps", "v1", "replicasets", "ReplicaSet", kNamespaced, kAllVerbs, {"rs"}, all,
        {ScaleSub(), StatusSub()});
  b.Add("apps", "v1", "statefulsets", "StatefulSet", kNamespaced, kAllVerbs, {"sts"}, all,
        {ScaleSub(), StatusSub()});

  // events.k8s.io/v1
  // Stored with the core events: the same objects, viewed through another schema.
  b.StoredAs("", "v1").Add("events.k8s.io", "v1", "events", "Event", kNamespaced, kAllVerbs,
                           {"ev"});

  // authentication.k8s.io/v1 and authorization.k8s.io/v1: reviews are only created.
  b.Add("authentication.k8s.io", "v1", "selfsubjectreviews", "SelfSubjectReview", kCluster,
        kCreateOnly);
  b.Add("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", kCluster, kCreateOnly);
  b.Add("authorization.k8s.io", "v1", "localsubjectaccessreviews", "LocalSubjectAccessReview",
        kNamespaced, kCreateOnly);
  b.Add("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview",
        kCluster, kCreateOnly);
  b.Add("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "SelfSubjectRulesReview", kCluster,
        kCreateOnly);
  b.Add("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", kCluster,
        kCreateOnly);

  // autoscaling: v2 is preferred; both versions read and write the same stored objects.
  for (const char* version : {"v2", "v1"}) {
    b.StoredAs("autoscaling", "v2")
        .Add("autoscaling", version, "horizontalpodautoscalers", "HorizontalPodAutoscaler",
             kNamespaced, kAllVerbs, {"hpa"}, all, {StatusSub()});
  }

  // batch/v1
  b.Add("batch", "v1", "cronjobs", "CronJob", kNamespaced, kAllVerbs, {"cj"}, all, {StatusSub()});
  b.Add("batch", "v1", "jobs", "Job", kNamespaced, kAllVerbs, {}, all, {StatusSub()});

  // certificates.k8s.io/v1
  b.Add("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest",
        kCluster, kAllVerbs, {"csr"}, {}, {Sub("approval", "", kStatusVerbs), StatusSub()});

  // networking.k8s.io/v1
  b.Add("networking.k8s.io", "v1", "ingressclasses", "IngressClass", kCluster);
  b.Add("networking.k8s.io", "v1", "ingresses", "Ingress", kNamespaced, kAllVerbs, {"ing"}, {},
        {StatusSub()});
  b.Add("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", kNamespaced, kAllVerbs,
        {"netpol"});

  // policy/v1
  b.Add("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", kNamespaced, kAllVerbs,
        {"pdb"}, {}, {StatusSub()});

  // rbac.authorization.k8s.io/v1
  b.Add("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", kCluster);
  b.Add("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", kCluster);
  b.Add("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", kNamespaced);
  b.Add("rbac.authorization.k8s.io", "v1", "roles", "Role", kNamespaced);

  // storage.k8s.io/v1
  b.Add("storage.k8s.io", "v1", "csidrivers", "CSIDriver", kCluster);
  b.Add("storage.k8s.io", "v1", "csinodes", "CSINode", kCluster);
  b.Add("storage.k8s.io", "v1", "storageclasses", "StorageClass", kCluster, kAllVerbs, {"sc"});
  b.Add("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", kCluster, kAllVerbs, {},
        {}, {StatusSub()});

  // apiextensions.k8s.io/v1
  b.Add("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
        kCluster, kAllVerbs, {"crd", "crds"}, {"api-extensions"}, {StatusSub()});

  // scheduling.k8s.io/v1
  b.Add("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", kCluster, kAllVerbs, {"pc"});

  // coordination.k8s.io/v1
  b.Add("coordination.k8s.io", "v1", "leases", "Lease", kNamespaced);

  // discovery.k8s.io/v1
  b.Add("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", kNamespaced);

  return b.Take();
}

}  // namespace kite::resources
