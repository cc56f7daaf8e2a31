#include "src/server/auth/bootstrap_policy.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <ctime>
#include <random>

#include "src/server/auth/policy_rule.h"
#include "src/server/auth/rbac_index.h"

namespace kite::auth {
namespace {

using Strings = std::vector<std::string>;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

const Strings kRead = {"get", "list", "watch"};
const Strings kWrite = {"create", "delete", "deletecollection", "patch", "update"};
const Strings kReadWrite = {"create", "delete", "deletecollection", "get",
                            "list",   "patch",  "update",           "watch"};

constexpr const char* kAggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin";
constexpr const char* kAggregateToEdit = "rbac.authorization.k8s.io/aggregate-to-edit";
constexpr const char* kAggregateToView = "rbac.authorization.k8s.io/aggregate-to-view";

PolicyRule Rule(Strings verbs, Strings groups, Strings resources) {
  PolicyRule r;
  r.verbs = std::move(verbs);
  r.api_groups = std::move(groups);
  r.resources = std::move(resources);
  return r;
}

PolicyRule UrlRule(Strings verbs, Strings urls) {
  PolicyRule r;
  r.verbs = std::move(verbs);
  r.non_resource_urls = std::move(urls);
  return r;
}

// The rules of Kubernetes' system:aggregate-to-* roles, for the resources Kite serves
// (the extensions/v1beta1 entries are left out: Kite does not serve that group).
std::vector<PolicyRule> AggregateToViewRules() {
  return {
      Rule(kRead, {""},
           {"configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status",
            "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
            "services", "services/status"}),
      Rule(kRead, {""},
           {"bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
            "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"}),
      Rule(kRead, {""}, {"namespaces"}),
      Rule(kRead, {"discovery.k8s.io"}, {"endpointslices"}),
      Rule(kRead, {"apps"},
           {"controllerrevisions", "daemonsets", "daemonsets/status", "deployments",
            "deployments/scale", "deployments/status", "replicasets", "replicasets/scale",
            "replicasets/status", "statefulsets", "statefulsets/scale", "statefulsets/status"}),
      Rule(kRead, {"autoscaling"}, {"horizontalpodautoscalers", "horizontalpodautoscalers/status"}),
      Rule(kRead, {"batch"}, {"cronjobs", "cronjobs/status", "jobs", "jobs/status"}),
      Rule(kRead, {"policy"}, {"poddisruptionbudgets", "poddisruptionbudgets/status"}),
      Rule(kRead, {"networking.k8s.io"}, {"ingresses", "ingresses/status", "networkpolicies"}),
  };
}

std::vector<PolicyRule> AggregateToEditRules() {
  return {
      Rule(kRead, {""},
           {"pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets",
            "services/proxy"}),
      Rule({"impersonate"}, {""}, {"serviceaccounts"}),
      Rule(kWrite, {""}, {"pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"}),
      Rule({"create"}, {""}, {"pods/eviction"}),
      Rule(kWrite, {""},
           {"configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
            "replicationcontrollers/scale", "secrets", "serviceaccounts", "services",
            "services/proxy"}),
      Rule({"create"}, {""}, {"serviceaccounts/token"}),
      Rule(kWrite, {"apps"},
           {"daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
            "replicasets/scale", "statefulsets", "statefulsets/scale"}),
      Rule(kWrite, {"autoscaling"}, {"horizontalpodautoscalers"}),
      Rule(kWrite, {"batch"}, {"cronjobs", "jobs"}),
      Rule(kWrite, {"policy"}, {"poddisruptionbudgets"}),
      Rule(kWrite, {"networking.k8s.io"}, {"ingresses", "networkpolicies"}),
      Rule(kReadWrite, {"coordination.k8s.io"}, {"leases"}),
  };
}

std::vector<PolicyRule> AggregateToAdminRules() {
  return {
      Rule({"create"}, {"authorization.k8s.io"}, {"localsubjectaccessreviews"}),
      Rule(kReadWrite, {"rbac.authorization.k8s.io"}, {"rolebindings", "roles"}),
  };
}

std::vector<PolicyRule> NodeRules() {
  return {
      Rule({"create"}, {"authentication.k8s.io"}, {"tokenreviews"}),
      Rule({"create"}, {"authorization.k8s.io"},
           {"localsubjectaccessreviews", "subjectaccessreviews"}),
      Rule(kRead, {""}, {"services"}),
      Rule({"create", "get", "list", "watch"}, {""}, {"nodes"}),
      Rule({"patch", "update"}, {""}, {"nodes/status"}),
      Rule({"patch", "update"}, {""}, {"nodes"}),
      Rule({"create", "patch", "update"}, {""}, {"events"}),
      Rule(kRead, {""}, {"pods"}),
      Rule({"create", "delete"}, {""}, {"pods"}),
      Rule({"patch", "update"}, {""}, {"pods/status"}),
      Rule({"create"}, {""}, {"pods/eviction"}),
      Rule(kRead, {""}, {"configmaps", "secrets"}),
      Rule({"get"}, {""}, {"persistentvolumeclaims", "persistentvolumes"}),
      Rule({"get"}, {""}, {"endpoints"}),
      Rule({"create", "get", "list", "watch"}, {"certificates.k8s.io"},
           {"certificatesigningrequests"}),
      // Node heartbeats: the Lease named after the node in kube-node-lease.
      Rule({"create", "delete", "get", "patch", "update"}, {"coordination.k8s.io"}, {"leases"}),
      Rule({"get"}, {"storage.k8s.io"}, {"volumeattachments"}),
      Rule({"create"}, {""}, {"serviceaccounts/token"}),
      Rule({"get", "patch", "update"}, {""}, {"persistentvolumeclaims/status"}),
      Rule(kRead, {"storage.k8s.io"}, {"csidrivers"}),
      Rule({"create", "delete", "get", "patch", "update"}, {"storage.k8s.io"}, {"csinodes"}),
  };
}

// What the aggregation controller writes: the union, without duplicates, of the rules of
// the matched roles in name order.
std::vector<PolicyRule> Union(std::initializer_list<std::vector<PolicyRule>> parts) {
  std::vector<PolicyRule> out;
  for (const std::vector<PolicyRule>& part : parts) {
    for (const PolicyRule& rule : part) {
      bool seen = false;
      for (const PolicyRule& have : out) seen = seen || have == rule;
      if (!seen) out.push_back(rule);
    }
  }
  return out;
}

struct ClusterRoleSpec {
  std::string name;
  std::vector<PolicyRule> rules;
  // Label (value "true") this role is aggregated into; "" = none.
  std::string aggregate_into;
  // Label (value "true") this role aggregates; "" = not aggregated.
  std::string aggregates;
};

struct SubjectSpec {
  std::string kind;
  std::string name;
};

struct BindingSpec {
  std::string name;  // also the ClusterRole it binds
  std::vector<SubjectSpec> subjects;
};

std::vector<ClusterRoleSpec> ClusterRoles() {
  std::vector<PolicyRule> view = AggregateToViewRules();
  // "system:aggregate-to-edit" sorts before "view"; "edit" before "system:aggregate-to-admin".
  std::vector<PolicyRule> edit = Union({AggregateToEditRules(), view});
  std::vector<PolicyRule> admin = Union({edit, AggregateToAdminRules()});
  return {
      {"cluster-admin", {Rule({"*"}, {"*"}, {"*"}), UrlRule({"*"}, {"*"})}, "", ""},
      {"admin", admin, "", kAggregateToAdmin},
      {"edit", edit, kAggregateToAdmin, kAggregateToEdit},
      {"view", view, kAggregateToEdit, kAggregateToView},
      {"system:aggregate-to-admin", AggregateToAdminRules(), kAggregateToAdmin, ""},
      {"system:aggregate-to-edit", AggregateToEditRules(), kAggregateToEdit, ""},
      {"system:aggregate-to-view", AggregateToViewRules(), kAggregateToView, ""},
      {"system:discovery",
       {UrlRule({"get"}, {"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi",
                          "/openapi/*", "/readyz", "/version", "/version/"})},
       "",
       ""},
      {"system:basic-user",
       {Rule({"create"}, {"authorization.k8s.io"},
             {"selfsubjectaccessreviews", "selfsubjectrulesreviews"}),
        Rule({"create"}, {"authentication.k8s.io"}, {"selfsubjectreviews"})},
       "",
       ""},
      {"system:public-info-viewer",
       {UrlRule({"get"}, {"/healthz", "/livez", "/readyz", "/version", "/version/"})},
       "",
       ""},
      {"system:node", NodeRules(), "", ""},
      {"system:service-account-issuer-discovery",
       {UrlRule({"get"}, {"/.well-known/openid-configuration", "/.well-known/openid-configuration/",
                          "/openid/v1/jwks", "/openid/v1/jwks/"})},
       "",
       ""},
  };
}

std::vector<BindingSpec> ClusterRoleBindings() {
  return {
      {"cluster-admin", {{"Group", "system:masters"}}},
      {"system:discovery", {{"Group", "system:authenticated"}}},
      {"system:basic-user", {{"Group", "system:authenticated"}}},
      {"system:public-info-viewer",
       {{"Group", "system:authenticated"}, {"Group", "system:unauthenticated"}}},
      {"system:node", {{"Group", "system:nodes"}}},
      {"system:service-account-issuer-discovery", {{"Group", "system:serviceaccounts"}}},
  };
}

std::string NewUid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  uint64_t a = rng(), b = rng();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string Rfc3339(int64_t millis) {
  time_t seconds = static_cast<time_t>(millis / 1000);
  struct tm tm_utc;
  gmtime_r(&seconds, &tm_utc);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm_utc);
  return buf;
}

void WriteMetadata(Writer& w, const std::string& name, const std::string& created,
                   const std::string& extra_label) {
  w.Key("metadata");
  w.StartObject();
  w.Key("name");
  w.String(name);
  w.Key("uid");
  w.String(NewUid());
  w.Key("creationTimestamp");
  w.String(created);
  w.Key("labels");
  w.StartObject();
  w.Key("kubernetes.io/bootstrapping");
  w.String("rbac-defaults");
  if (!extra_label.empty()) {
    w.Key(extra_label.c_str());
    w.String("true");
  }
  w.EndObject();
  w.Key("annotations");
  w.StartObject();
  w.Key("rbac.authorization.kubernetes.io/autoupdate");
  w.String("true");
  w.EndObject();
  w.EndObject();
}

std::string EncodeClusterRole(const ClusterRoleSpec& spec, const std::string& created) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("apiVersion");
  w.String("rbac.authorization.k8s.io/v1");
  w.Key("kind");
  w.String("ClusterRole");
  WriteMetadata(w, spec.name, created, spec.aggregate_into);
  w.Key("rules");
  w.StartArray();
  for (const PolicyRule& rule : spec.rules) {
    std::string json;
    AppendPolicyRuleJson(json, rule);
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
  w.EndArray();
  if (!spec.aggregates.empty()) {
    w.Key("aggregationRule");
    w.StartObject();
    w.Key("clusterRoleSelectors");
    w.StartArray();
    w.StartObject();
    w.Key("matchLabels");
    w.StartObject();
    w.Key(spec.aggregates.c_str());
    w.String("true");
    w.EndObject();
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string EncodeClusterRoleBinding(const BindingSpec& spec, const std::string& created) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("apiVersion");
  w.String("rbac.authorization.k8s.io/v1");
  w.Key("kind");
  w.String("ClusterRoleBinding");
  WriteMetadata(w, spec.name, created, "");
  w.Key("subjects");
  w.StartArray();
  for (const SubjectSpec& s : spec.subjects) {
    w.StartObject();
    w.Key("kind");
    w.String(s.kind);
    w.Key("apiGroup");
    w.String("rbac.authorization.k8s.io");
    w.Key("name");
    w.String(s.name);
    w.EndObject();
  }
  w.EndArray();
  w.Key("roleRef");
  w.StartObject();
  w.Key("apiGroup");
  w.String("rbac.authorization.k8s.io");
  w.Key("kind");
  w.String("ClusterRole");
  w.Key("name");
  w.String(spec.name);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string ClusterRoleKey(const std::string& name) {
  return std::string(kRbacPrefix) + "clusterroles/" + name;
}

std::string ClusterRoleBindingKey(const std::string& name) {
  return std::string(kRbacPrefix) + "clusterrolebindings/" + name;
}

Status CreateIfMissing(store::KvStore* kv, const std::string& key, const std::string& value) {
  Result<int64_t> created = kv->Create(key, value);
  if (created.ok() || created.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  return created.status();
}

}  // namespace

Status EnsureBootstrapPolicy(store::KvStore* kv, Clock* clock) {
  std::string created = Rfc3339(clock->NowMillis());
  // Roles before bindings, so no binding ever points at a role that is not there yet.
  for (const ClusterRoleSpec& spec : ClusterRoles()) {
    KITE_RETURN_IF_ERROR(
        CreateIfMissing(kv, ClusterRoleKey(spec.name), EncodeClusterRole(spec, created)));
  }
  for (const BindingSpec& spec : ClusterRoleBindings()) {
    KITE_RETURN_IF_ERROR(CreateIfMissing(kv, ClusterRoleBindingKey(spec.name),
                                         EncodeClusterRoleBinding(spec, created)));
  }
  return Status::Ok();
}

std::vector<std::string> BootstrapPolicyKeys() {
  std::vector<std::string> keys;
  for (const ClusterRoleSpec& spec : ClusterRoles()) keys.push_back(ClusterRoleKey(spec.name));
  for (const BindingSpec& spec : ClusterRoleBindings()) {
    keys.push_back(ClusterRoleBindingKey(spec.name));
  }
  return keys;
}

}  // namespace kite::auth
