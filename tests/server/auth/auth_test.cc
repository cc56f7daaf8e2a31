// Tests for RBAC: rule matching, rule resolution over bindings, the watch-fed authorizer
// and the default policy. Expected reasons and messages are Kubernetes' own wording.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/clock.h"
#include "src/server/auth/authorizer.h"
#include "src/server/auth/bootstrap_policy.h"
#include "src/server/auth/policy_rule.h"
#include "src/server/auth/rbac_authorizer.h"
#include "src/server/auth/rbac_index.h"
#include "src/store/kv_store.h"
#include "src/store/open_store.h"

using kite::StatusCode;
using kite::auth::Attributes;
using kite::auth::Decision;
using kite::auth::PolicyRule;
using kite::auth::RbacAuthorizer;
using kite::auth::RbacIndex;
using kite::auth::RuleAllows;
using kite::auth::RulesReview;

namespace {

using Groups = std::vector<std::string>;
const Groups kAuthenticated = {"system:authenticated"};
constexpr auto kWait = std::chrono::seconds(5);

Attributes Resource(std::string user, Groups groups, std::string verb, std::string group,
                    std::string resource, std::string ns, std::string name = "",
                    std::string subresource = "") {
  Attributes a;
  a.user = std::move(user);
  a.groups = std::move(groups);
  a.verb = std::move(verb);
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.namespace_name = std::move(ns);
  a.name = std::move(name);
  a.subresource = std::move(subresource);
  return a;
}

Attributes Url(std::string user, Groups groups, std::string verb, std::string path) {
  Attributes a;
  a.user = std::move(user);
  a.groups = std::move(groups);
  a.verb = std::move(verb);
  a.resource_request = false;
  a.path = std::move(path);
  return a;
}

std::string RoleKey(const std::string& ns, const std::string& name) {
  return "/registry/rbac.authorization.k8s.io/roles/" + ns + "/" + name;
}
std::string ClusterRoleKey(const std::string& name) {
  return "/registry/rbac.authorization.k8s.io/clusterroles/" + name;
}
std::string RoleBindingKey(const std::string& ns, const std::string& name) {
  return "/registry/rbac.authorization.k8s.io/rolebindings/" + ns + "/" + name;
}
std::string ClusterRoleBindingKey(const std::string& name) {
  return "/registry/rbac.authorization.k8s.io/clusterrolebindings/" + name;
}

// Objects as the API server stores them (no resourceVersion).
std::string RoleJson(const std::string& ns, const std::string& name, const std::string& rules) {
  return R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":")" +
         name + R"(","namespace":")" + ns + R"("},"rules":)" + rules + "}";
}
std::string ClusterRoleJson(const std::string& name, const std::string& rules,
                            const std::string& labels = "{}", const std::string& aggregation = "") {
  std::string json =
      R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":")" +
      name + R"(","labels":)" + labels + R"(},"rules":)" + rules;
  if (!aggregation.empty()) json += R"(,"aggregationRule":)" + aggregation;
  return json + "}";
}
std::string BindingJson(const std::string& kind, const std::string& ns, const std::string& name,
                        const std::string& role_kind, const std::string& role_name,
                        const std::string& subjects) {
  std::string json = R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":")" + kind +
                     R"(","metadata":{"name":")" + name + "\"";
  if (!ns.empty()) json += R"(,"namespace":")" + ns + "\"";
  return json + R"(},"subjects":)" + subjects +
         R"(,"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":")" + role_kind +
         R"(","name":")" + role_name + R"("}})";
}
std::string UserSubject(const std::string& user) {
  return R"([{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":")" + user + R"("}])";
}
std::string GroupSubject(const std::string& group) {
  return R"([{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":")" + group + R"("}])";
}

const char kReadPods[] =
    R"([{"verbs":["get","list","watch"],"apiGroups":[""],"resources":["pods"]}])";

// A MemoryStore and an authorizer over it. The store is declared first: it must outlive
// the authorizer's watch.
struct Cluster {
  std::unique_ptr<kite::store::KvStore> kv = kite::store::OpenStore("memory://").value();
  std::unique_ptr<RbacAuthorizer> authz;

  void Start() {
    auto started = RbacAuthorizer::Start(kv.get());
    REQUIRE(started.ok());
    authz = std::move(started).value();
  }
  // Writes an object and waits until the authorizer has applied it.
  void Put(const std::string& key, const std::string& value) {
    auto rev = kv->Create(key, value);
    if (!rev.ok() && rev.status().code() == StatusCode::kAlreadyExists)
      rev = kv->Update(key, value, 0);
    REQUIRE(rev.ok());
    if (authz) REQUIRE(authz->WaitForRevision(*rev, kWait));
  }
  void Remove(const std::string& key) {
    auto rev = kv->Delete(key);
    REQUIRE(rev.ok());
    if (authz) REQUIRE(authz->WaitForRevision(*rev, kWait));
  }
  bool Allowed(const Attributes& a) { return authz->Authorize(a).allowed; }
};

}  // namespace

TEST_CASE("RuleAllows: verbs, groups, resources and wildcards") {
  PolicyRule rule;
  rule.verbs = {"get", "list"};
  rule.api_groups = {"apps"};
  rule.resources = {"deployments"};
  auto a = Resource("u", {}, "get", "apps", "deployments", "ns");
  CHECK(RuleAllows(a, rule));
  a.verb = "delete";
  CHECK_FALSE(RuleAllows(a, rule));
  a.verb = "list";
  a.api_group = "";
  CHECK_FALSE(RuleAllows(a, rule));  // same resource name, other group
  a.api_group = "apps";
  a.resource = "replicasets";
  CHECK_FALSE(RuleAllows(a, rule));

  rule.verbs = {"*"};
  rule.api_groups = {"*"};
  rule.resources = {"*"};
  CHECK(RuleAllows(Resource("u", {}, "deletecollection", "batch", "jobs", ""), rule));
  // "*" covers subresources too.
  CHECK(RuleAllows(Resource("u", {}, "update", "", "pods", "ns", "p", "status"), rule));
  // A resource rule never matches a non-resource request.
  CHECK_FALSE(RuleAllows(Url("u", {}, "get", "/healthz"), rule));
}

TEST_CASE("RuleAllows: subresources") {
  PolicyRule pods;
  pods.verbs = {"get"};
  pods.api_groups = {""};
  pods.resources = {"pods"};
  CHECK(RuleAllows(Resource("u", {}, "get", "", "pods", "ns", "p"), pods));
  // "pods" does not reach pods/log.
  CHECK_FALSE(RuleAllows(Resource("u", {}, "get", "", "pods", "ns", "p", "log"), pods));

  PolicyRule log = pods;
  log.resources = {"pods/log"};
  CHECK(RuleAllows(Resource("u", {}, "get", "", "pods", "ns", "p", "log"), log));
  CHECK_FALSE(RuleAllows(Resource("u", {}, "get", "", "pods", "ns", "p"), log));
  CHECK_FALSE(RuleAllows(Resource("u", {}, "get", "", "pods", "ns", "p", "exec"), log));

  PolicyRule any_scale;
  any_scale.verbs = {"update"};
  any_scale.api_groups = {"*"};
  any_scale.resources = {"*/scale"};
  CHECK(RuleAllows(Resource("u", {}, "update", "apps", "deployments", "ns", "d", "scale"),
                   any_scale));
  CHECK(RuleAllows(Resource("u", {}, "update", "", "replicationcontrollers", "ns", "r", "scale"),
                   any_scale));
  CHECK_FALSE(RuleAllows(Resource("u", {}, "update", "apps", "deployments", "ns", "d"), any_scale));
  CHECK_FALSE(RuleAllows(Resource("u", {}, "update", "apps", "deployments", "ns", "d", "status"),
                         any_scale));
  CHECK_FALSE(RuleAllows(Resource("u", {}, "update", "apps", "deployments", "ns", "d", "scalex"),
                         any_scale));
}

TEST_CASE("RuleAllows: resourceNames") {
  PolicyRule rule;
  rule.verbs = {"get", "update", "list"};
  rule.api_groups = {""};
  rule.resources = {"configmaps"};
  rule.resource_names = {"settings"};
  CHECK(RuleAllows(Resource("u", {}, "get", "", "configmaps", "ns", "settings"), rule));
  CHECK_FALSE(RuleAllows(Resource("u", {}, "get", "", "configmaps", "ns", "other"), rule));
  // A list (no name) is not covered by a named rule.
  CHECK_FALSE(RuleAllows(Resource("u", {}, "list", "", "configmaps", "ns"), rule));
}

TEST_CASE("RuleAllows: non-resource URLs") {
  PolicyRule rule;
  rule.verbs = {"get"};
  rule.non_resource_urls = {"/healthz", "/apis/*", "/logs*"};
  CHECK(RuleAllows(Url("u", {}, "get", "/healthz"), rule));
  CHECK_FALSE(RuleAllows(Url("u", {}, "get", "/healthz/etcd"), rule));
  CHECK_FALSE(RuleAllows(Url("u", {}, "post", "/healthz"), rule));
  CHECK(RuleAllows(Url("u", {}, "get", "/apis/apps/v1"), rule));
  CHECK(RuleAllows(Url("u", {}, "get", "/apis/"), rule));
  CHECK_FALSE(RuleAllows(Url("u", {}, "get", "/apis"), rule));
  CHECK(RuleAllows(Url("u", {}, "get", "/logs"), rule));
  CHECK(RuleAllows(Url("u", {}, "get", "/logsfoo/bar"), rule));
  CHECK_FALSE(RuleAllows(Url("u", {}, "get", "/metrics"), rule));
  // A URL rule never matches a resource request.
  CHECK_FALSE(RuleAllows(Resource("u", {}, "get", "", "pods", "ns"), rule));

  rule.non_resource_urls = {"*"};
  CHECK(RuleAllows(Url("u", {}, "get", "/anything/at/all"), rule));
}

TEST_CASE("PolicyRuleFromJson rejects malformed rules") {
  rapidjson::Document doc;
  doc.Parse(R"({"verbs":["get"],"resources":["pods",3]})");
  auto rule = kite::auth::PolicyRuleFromJson(doc);
  REQUIRE_FALSE(rule.ok());
  CHECK(rule.status().code() == StatusCode::kInvalidArgument);
  CHECK(rule.status().message() == "rules[].resources must be a list of strings");

  doc.Parse(R"({"verbs":["get"],"apiGroups":[""],"resources":["pods"],"resourceNames":null})");
  auto ok = kite::auth::PolicyRuleFromJson(doc);
  REQUIRE(ok.ok());
  CHECK(ok->resources == std::vector<std::string>{"pods"});
  CHECK(ok->resource_names.empty());

  std::string json;
  kite::auth::AppendPolicyRuleJson(json, *ok);
  CHECK(json == R"({"verbs":["get"],"apiGroups":[""],"resources":["pods"]})");
}

TEST_CASE("system:masters is always allowed, even with no RBAC objects") {
  Cluster c;
  c.Start();
  Decision d = c.authz->Authorize(Resource("admin", {"system:masters", "system:authenticated"},
                                           "delete", "", "nodes", "", "n1"));
  CHECK(d.allowed);
  CHECK_FALSE(d.reason.empty());
  CHECK(c.Allowed(Url("admin", {"system:masters"}, "post", "/anything")));
  // Not so for anyone else.
  Decision denied =
      c.authz->Authorize(Resource("bob", kAuthenticated, "get", "", "pods", "default"));
  CHECK_FALSE(denied.allowed);
  CHECK(denied.reason.empty());
}

TEST_CASE("a Role in one namespace grants nothing in another") {
  Cluster c;
  c.Put(RoleKey("a", "pod-reader"), RoleJson("a", "pod-reader", kReadPods));
  c.Put(RoleBindingKey("a", "read-pods"),
        BindingJson("RoleBinding", "a", "read-pods", "Role", "pod-reader", UserSubject("alice")));
  c.Start();  // the initial list sees objects written before Start

  Decision d = c.authz->Authorize(Resource("alice", kAuthenticated, "list", "", "pods", "a"));
  CHECK(d.allowed);
  CHECK(d.reason ==
        R"(RBAC: allowed by RoleBinding "read-pods/a" of Role "pod-reader" to User "alice")");
  CHECK_FALSE(c.Allowed(Resource("alice", kAuthenticated, "list", "", "pods", "b")));
  // All namespaces (cluster scope) is not granted by a namespaced binding either.
  CHECK_FALSE(c.Allowed(Resource("alice", kAuthenticated, "list", "", "pods", "")));
  CHECK_FALSE(c.Allowed(Resource("alice", kAuthenticated, "delete", "", "pods", "a", "p")));
  CHECK_FALSE(c.Allowed(Resource("bob", kAuthenticated, "list", "", "pods", "a")));

  // A Role of the same name in b is not what the binding in a refers to.
  c.Put(RoleBindingKey("b", "read-pods"),
        BindingJson("RoleBinding", "b", "read-pods", "Role", "pod-reader", UserSubject("alice")));
  Decision missing = c.authz->Authorize(Resource("alice", kAuthenticated, "list", "", "pods", "b"));
  CHECK_FALSE(missing.allowed);
  CHECK(missing.reason == R"(RBAC: role.rbac.authorization.k8s.io "pod-reader" not found)");
  Attributes named = Resource("alice", kAuthenticated, "get", "", "pods", "b", "web");
  CHECK(
      kite::auth::ForbiddenMessage(named, c.authz->Authorize(named)) ==
      R"(pods "web" is forbidden: User "alice" cannot get resource "pods" in API group "" in the )"
      R"(namespace "b": RBAC: role.rbac.authorization.k8s.io "pod-reader" not found)");
}

TEST_CASE("a ClusterRole bound by a RoleBinding grants in that namespace only") {
  Cluster c;
  c.Start();
  c.Put(ClusterRoleKey("deployer"),
        ClusterRoleJson("deployer",
                        R"([{"verbs":["*"],"apiGroups":["apps"],"resources":["deployments"]}])"));
  c.Put(RoleBindingKey("dev", "deployers"),
        BindingJson("RoleBinding", "dev", "deployers", "ClusterRole", "deployer",
                    GroupSubject("team")));

  Decision d =
      c.authz->Authorize(Resource("carol", {"team"}, "create", "apps", "deployments", "dev"));
  CHECK(d.allowed);
  CHECK(
      d.reason ==
      R"(RBAC: allowed by RoleBinding "deployers/dev" of ClusterRole "deployer" to Group "team")");
  CHECK_FALSE(c.Allowed(Resource("carol", {"team"}, "create", "apps", "deployments", "prod")));
  CHECK_FALSE(c.Allowed(Resource("carol", {"team"}, "list", "apps", "deployments", "")));

  // Bound cluster-wide, the same role grants everywhere.
  c.Put(ClusterRoleBindingKey("deployers"),
        BindingJson("ClusterRoleBinding", "", "deployers", "ClusterRole", "deployer",
                    GroupSubject("team")));
  Decision wide =
      c.authz->Authorize(Resource("carol", {"team"}, "create", "apps", "deployments", "prod"));
  CHECK(wide.allowed);
  CHECK(
      wide.reason ==
      R"(RBAC: allowed by ClusterRoleBinding "deployers" of ClusterRole "deployer" to Group "team")");
  CHECK(c.Allowed(Resource("carol", {"team"}, "list", "apps", "deployments", "")));
  Attributes cluster_list = Resource("dave", {}, "list", "apps", "deployments", "");
  CHECK(kite::auth::ForbiddenMessage(cluster_list, c.authz->Authorize(cluster_list)) ==
        R"(deployments.apps is forbidden: User "dave" cannot list resource "deployments" in API )"
        R"(group "apps" at the cluster scope)");
}

TEST_CASE("wildcard, subresource and resourceNames rules through bindings") {
  Cluster c;
  c.Start();
  c.Put(ClusterRoleKey("scaler"),
        ClusterRoleJson(
            "scaler",
            R"([{"verbs":["get","update","patch"],"apiGroups":["*"],"resources":["*/scale"]},)"
            R"({"verbs":["get"],"apiGroups":[""],"resources":["pods/log"]},)"
            R"({"verbs":["get","update"],"apiGroups":[""],"resources":["configmaps"],)"
            R"("resourceNames":["app-config"]}])"));
  c.Put(ClusterRoleBindingKey("scaler"), BindingJson("ClusterRoleBinding", "", "scaler",
                                                     "ClusterRole", "scaler", UserSubject("ops")));

  CHECK(c.Allowed(Resource("ops", {}, "update", "apps", "deployments", "x", "web", "scale")));
  CHECK(c.Allowed(Resource("ops", {}, "patch", "apps", "statefulsets", "y", "db", "scale")));
  CHECK_FALSE(c.Allowed(Resource("ops", {}, "update", "apps", "deployments", "x", "web")));
  CHECK_FALSE(
      c.Allowed(Resource("ops", {}, "update", "apps", "deployments", "x", "web", "status")));
  CHECK(c.Allowed(Resource("ops", {}, "get", "", "pods", "x", "p", "log")));
  CHECK_FALSE(c.Allowed(Resource("ops", {}, "get", "", "pods", "x", "p")));
  CHECK_FALSE(c.Allowed(Resource("ops", {}, "create", "", "pods", "x", "p", "exec")));
  CHECK(c.Allowed(Resource("ops", {}, "update", "", "configmaps", "x", "app-config")));
  CHECK_FALSE(c.Allowed(Resource("ops", {}, "update", "", "configmaps", "x", "other")));
  CHECK_FALSE(c.Allowed(Resource("ops", {}, "list", "", "configmaps", "x")));
}

TEST_CASE("non-resource URLs through bindings") {
  Cluster c;
  c.Start();
  c.Put(ClusterRoleKey("metrics"),
        ClusterRoleJson("metrics",
                        R"([{"verbs":["get"],"nonResourceURLs":["/metrics","/debug/*"]}])"));
  c.Put(ClusterRoleBindingKey("metrics"),
        BindingJson("ClusterRoleBinding", "", "metrics", "ClusterRole", "metrics",
                    UserSubject("prom")));
  CHECK(c.Allowed(Url("prom", {}, "get", "/metrics")));
  CHECK(c.Allowed(Url("prom", {}, "get", "/debug/pprof/heap")));
  CHECK_FALSE(c.Allowed(Url("prom", {}, "post", "/metrics")));
  CHECK_FALSE(c.Allowed(Url("prom", {}, "get", "/version")));
  CHECK_FALSE(c.Allowed(Url("other", {}, "get", "/metrics")));
  Attributes denied = Url("other", {}, "get", "/metrics");
  CHECK(kite::auth::ForbiddenMessage(denied, c.authz->Authorize(denied)) ==
        R"(forbidden: User "other" cannot get path "/metrics")");
}

TEST_CASE("service-account subjects") {
  Cluster c;
  c.Start();
  c.Put(RoleKey("apps", "pod-reader"), RoleJson("apps", "pod-reader", kReadPods));
  // No namespace in the subject: the RoleBinding's own.
  c.Put(RoleBindingKey("apps", "builder"),
        BindingJson("RoleBinding", "apps", "builder", "Role", "pod-reader",
                    R"([{"kind":"ServiceAccount","name":"builder"}])"));
  // A service account of another namespace, named explicitly.
  c.Put(RoleBindingKey("apps", "monitor"),
        BindingJson("RoleBinding", "apps", "monitor", "Role", "pod-reader",
                    R"([{"kind":"ServiceAccount","name":"agent","namespace":"monitoring"}])"));

  std::string builder = kite::auth::ServiceAccountUsername("apps", "builder");
  CHECK(builder == "system:serviceaccount:apps:builder");
  Groups builder_groups = kite::auth::ServiceAccountGroups("apps");
  CHECK(builder_groups == Groups{"system:serviceaccounts", "system:serviceaccounts:apps"});
  Decision d =
      c.authz->Authorize(Resource(builder, builder_groups, "get", "", "pods", "apps", "p"));
  CHECK(d.allowed);
  CHECK(
      d.reason ==
      R"(RBAC: allowed by RoleBinding "builder/apps" of Role "pod-reader" to ServiceAccount "builder/apps")");
  // The same name in another namespace is another account.
  CHECK_FALSE(
      c.Allowed(Resource("system:serviceaccount:other:builder",
                         kite::auth::ServiceAccountGroups("other"), "get", "", "pods", "apps")));
  Decision agent = c.authz->Authorize(Resource("system:serviceaccount:monitoring:agent",
                                               kite::auth::ServiceAccountGroups("monitoring"),
                                               "list", "", "pods", "apps"));
  CHECK(agent.allowed);
  CHECK(
      agent.reason ==
      R"(RBAC: allowed by RoleBinding "monitor/apps" of Role "pod-reader" to ServiceAccount "agent/monitoring")");
  CHECK_FALSE(
      c.Allowed(Resource("system:serviceaccount:apps:agent",
                         kite::auth::ServiceAccountGroups("apps"), "list", "", "pods", "apps")));

  // A ServiceAccount subject without a namespace in a ClusterRoleBinding matches nobody.
  c.Put(ClusterRoleKey("node-reader"),
        ClusterRoleJson("node-reader",
                        R"([{"verbs":["get"],"apiGroups":[""],"resources":["nodes"]}])"));
  c.Put(ClusterRoleBindingKey("sa-unqualified"),
        BindingJson("ClusterRoleBinding", "", "sa-unqualified", "ClusterRole", "node-reader",
                    R"([{"kind":"ServiceAccount","name":"builder"}])"));
  CHECK_FALSE(c.Allowed(Resource(builder, builder_groups, "get", "", "nodes", "", "n1")));

  // Every service account of a namespace, through the group their tokens carry.
  c.Put(ClusterRoleBindingKey("apps-sas"),
        BindingJson("ClusterRoleBinding", "", "apps-sas", "ClusterRole", "node-reader",
                    GroupSubject("system:serviceaccounts:apps")));
  CHECK(c.Allowed(Resource(builder, builder_groups, "get", "", "nodes", "", "n1")));
  CHECK(
      c.Allowed(Resource("system:serviceaccount:apps:anyone",
                         kite::auth::ServiceAccountGroups("apps"), "get", "", "nodes", "", "n1")));
  CHECK_FALSE(
      c.Allowed(Resource("system:serviceaccount:other:x", kite::auth::ServiceAccountGroups("other"),
                         "get", "", "nodes", "", "n1")));
}

TEST_CASE("aggregated ClusterRoles combine the rules of the roles they select") {
  Cluster c;
  c.Start();
  c.Put(
      ClusterRoleKey("monitoring"),
      ClusterRoleJson(
          "monitoring", "[]", "{}",
          R"({"clusterRoleSelectors":[{"matchLabels":{"example.com/aggregate-to-monitoring":"true"}}]})"));
  c.Put(ClusterRoleBindingKey("monitoring"),
        BindingJson("ClusterRoleBinding", "", "monitoring", "ClusterRole", "monitoring",
                    UserSubject("mon")));
  CHECK_FALSE(c.Allowed(Resource("mon", {}, "get", "", "pods", "x")));

  c.Put(ClusterRoleKey("monitoring-pods"),
        ClusterRoleJson("monitoring-pods", kReadPods,
                        R"({"example.com/aggregate-to-monitoring":"true"})"));
  Decision d = c.authz->Authorize(Resource("mon", {}, "get", "", "pods", "x"));
  CHECK(d.allowed);
  CHECK(
      d.reason ==
      R"(RBAC: allowed by ClusterRoleBinding "monitoring" of ClusterRole "monitoring" to User "mon")");
  CHECK_FALSE(c.Allowed(Resource("mon", {}, "get", "", "services", "x")));

  // Selected through matchExpressions, and transitively through another aggregated role.
  c.Put(
      ClusterRoleKey("monitoring-extra"),
      ClusterRoleJson(
          "monitoring-extra", "[]", R"({"example.com/aggregate-to-monitoring":"true"})",
          R"({"clusterRoleSelectors":[{"matchExpressions":[{"key":"tier","operator":"In","values":["svc"]}]}]})"));
  c.Put(ClusterRoleKey("svc-reader"),
        ClusterRoleJson("svc-reader",
                        R"([{"verbs":["get"],"apiGroups":[""],"resources":["services"]}])",
                        R"({"tier":"svc"})"));
  CHECK(c.Allowed(Resource("mon", {}, "get", "", "services", "x")));

  // Stored rules of an aggregated role are not what it grants (the controller owns them).
  c.Put(
      ClusterRoleKey("monitoring"),
      ClusterRoleJson(
          "monitoring", R"([{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}])", "{}",
          R"({"clusterRoleSelectors":[{"matchLabels":{"example.com/aggregate-to-monitoring":"true"}}]})"));
  CHECK_FALSE(c.Allowed(Resource("mon", {}, "delete", "", "nodes", "", "n")));
  CHECK(c.Allowed(Resource("mon", {}, "get", "", "pods", "x")));

  // Dropping the label removes the rules.
  c.Put(ClusterRoleKey("monitoring-pods"), ClusterRoleJson("monitoring-pods", kReadPods, "{}"));
  CHECK_FALSE(c.Allowed(Resource("mon", {}, "get", "", "pods", "x")));
  CHECK(c.Allowed(Resource("mon", {}, "get", "", "services", "x")));

  // Roles that select each other do not loop.
  c.Put(ClusterRoleKey("loop-a"),
        ClusterRoleJson("loop-a", "[]", R"({"loop":"b"})",
                        R"({"clusterRoleSelectors":[{"matchLabels":{"loop":"a"}}]})"));
  c.Put(ClusterRoleKey("loop-b"),
        ClusterRoleJson("loop-b", "[]", R"({"loop":"a"})",
                        R"({"clusterRoleSelectors":[{"matchLabels":{"loop":"b"}}]})"));
  CHECK(c.Allowed(Resource("mon", {}, "get", "", "services", "x")));
}

TEST_CASE("the index follows bindings being created and deleted") {
  Cluster c;
  c.Start();
  c.Put(ClusterRoleKey("reader"), ClusterRoleJson("reader", kReadPods));
  Attributes want = Resource("erin", kAuthenticated, "get", "", "pods", "ns", "p");
  CHECK_FALSE(c.Allowed(want));

  // Written behind the authorizer's back; it must see it through its watch alone.
  auto created = c.kv->Create(
      ClusterRoleBindingKey("erin"),
      BindingJson("ClusterRoleBinding", "", "erin", "ClusterRole", "reader", UserSubject("erin")));
  REQUIRE(created.ok());
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!c.Allowed(want) && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(c.authz->WaitForRevision(*created, kWait));
  }
  CHECK(c.Allowed(want));
  CHECK(c.authz->revision() >= *created);

  REQUIRE(c.kv->Delete(ClusterRoleBindingKey("erin")).ok());
  deadline = std::chrono::steady_clock::now() + kWait;
  bool allowed = true;
  while (allowed && std::chrono::steady_clock::now() < deadline) {
    allowed = c.Allowed(want);
    if (allowed) std::this_thread::yield();
  }
  CHECK_FALSE(allowed);

  // Deleting the role a binding points at: denied, with the reason saying why.
  c.Put(ClusterRoleBindingKey("erin"), BindingJson("ClusterRoleBinding", "", "erin", "ClusterRole",
                                                   "reader", UserSubject("erin")));
  CHECK(c.Allowed(want));
  c.Remove(ClusterRoleKey("reader"));
  Decision d = c.authz->Authorize(want);
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == R"(RBAC: clusterrole.rbac.authorization.k8s.io "reader" not found)");
}

TEST_CASE("a watcher cut off for falling behind lists again and catches up") {
  kite::store::StoreOptions options;
  options.watch_buffer_events = 2;  // so a burst of writes cuts the watch off
  auto kv = kite::store::OpenStore("memory://", options).value();
  auto authz = RbacAuthorizer::Start(kv.get()).value();
  REQUIRE(kv->Create(ClusterRoleKey("reader"), ClusterRoleJson("reader", kReadPods)).ok());
  int64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    std::string user = "user" + std::to_string(i);
    auto rev = kv->Create(
        ClusterRoleBindingKey(user),
        BindingJson("ClusterRoleBinding", "", user, "ClusterRole", "reader", UserSubject(user)));
    REQUIRE(rev.ok());
    last = *rev;
  }
  REQUIRE(authz->WaitForRevision(last, kWait));
  for (int i = 0; i < 50; ++i) {
    INFO(i);
    CHECK(authz->Authorize(Resource("user" + std::to_string(i), {}, "list", "", "pods", "x"))
              .allowed);
  }
  authz.reset();  // before the store
}

TEST_CASE("malformed objects grant nothing and do not break the rest") {
  Cluster c;
  c.Put(ClusterRoleKey("reader"), ClusterRoleJson("reader", kReadPods));
  c.Put(ClusterRoleBindingKey("ok"),
        BindingJson("ClusterRoleBinding", "", "ok", "ClusterRole", "reader", UserSubject("frank")));
  c.Put(ClusterRoleKey("broken"), R"({"kind":"ClusterRole","rules":[{"verbs":"get"}]})");
  c.Put(ClusterRoleBindingKey("broken"), "not json");
  c.Start();
  CHECK(c.Allowed(Resource("frank", {}, "get", "", "pods", "x")));

  // A valid binding replaced by a broken version stops granting.
  c.Put(ClusterRoleBindingKey("ok"),
        R"({"kind":"ClusterRoleBinding","subjects":[{"kind":"User","name":"frank"}]})");
  CHECK_FALSE(c.Allowed(Resource("frank", {}, "get", "", "pods", "x")));

  RbacIndex index;
  CHECK(index.Put(ClusterRoleKey("x"), "[1]").code() == StatusCode::kInvalidArgument);
  CHECK(index.Put("/registry/core/pods/ns/p", "garbage").ok());  // not an RBAC key: ignored
  CHECK(index.size() == 0);
}

TEST_CASE("RulesFor lists resource and non-resource rules") {
  Cluster c;
  c.Start();
  c.Put(ClusterRoleKey("mixed"),
        ClusterRoleJson("mixed", R"([{"verbs":["get"],"apiGroups":[""],"resources":["nodes"]},)"
                                 R"({"verbs":["get"],"nonResourceURLs":["/healthz"]}])"));
  c.Put(ClusterRoleBindingKey("mixed"),
        BindingJson("ClusterRoleBinding", "", "mixed", "ClusterRole", "mixed", GroupSubject("g")));
  c.Put(RoleKey("ns1", "pods"), RoleJson("ns1", "pods", kReadPods));
  c.Put(RoleBindingKey("ns1", "pods"),
        BindingJson("RoleBinding", "ns1", "pods", "Role", "pods", UserSubject("gina")));
  c.Put(RoleBindingKey("ns1", "dangling"),
        BindingJson("RoleBinding", "ns1", "dangling", "Role", "nope", UserSubject("gina")));

  RulesReview in_ns1 = c.authz->RulesFor("gina", {"g"}, "ns1");
  REQUIRE(in_ns1.resource_rules.size() == 2);
  CHECK(in_ns1.resource_rules[0].resources == std::vector<std::string>{"nodes"});
  CHECK(in_ns1.resource_rules[1].resources == std::vector<std::string>{"pods"});
  CHECK(in_ns1.resource_rules[1].verbs == std::vector<std::string>{"get", "list", "watch"});
  REQUIRE(in_ns1.non_resource_rules.size() == 1);
  CHECK(in_ns1.non_resource_rules[0].non_resource_urls == std::vector<std::string>{"/healthz"});
  CHECK(in_ns1.non_resource_rules[0].resources.empty());
  CHECK_FALSE(in_ns1.incomplete);
  CHECK(in_ns1.evaluation_error == R"(role.rbac.authorization.k8s.io "nope" not found)");

  RulesReview in_ns2 = c.authz->RulesFor("gina", {"g"}, "ns2");
  CHECK(in_ns2.resource_rules.size() == 1);
  CHECK(in_ns2.evaluation_error.empty());
  CHECK(c.authz->RulesFor("nobody", {}, "ns1").resource_rules.empty());
}

TEST_CASE("bootstrap policy: created once, idempotent, and what it grants") {
  Cluster c;
  kite::FakeClock clock(1'700'000'000'000);
  REQUIRE(kite::auth::EnsureBootstrapPolicy(c.kv.get(), &clock).ok());
  int64_t after_first = c.kv->CurrentRevision();
  std::vector<std::string> keys = kite::auth::BootstrapPolicyKeys();
  REQUIRE(keys.size() == 18);
  auto listed = c.kv->Range(kite::store::RangeRequest::Prefix(kite::auth::kRbacPrefix));
  REQUIRE(listed.ok());
  CHECK(listed->kvs.size() == keys.size());

  // An administrator's change survives; a second run writes nothing.
  auto admin = c.kv->Get(ClusterRoleKey("admin"));
  REQUIRE(admin.ok());
  auto basic_user = c.kv->Get(ClusterRoleKey("system:basic-user"));
  REQUIRE(basic_user.ok());
  std::string custom = ClusterRoleJson("system:basic-user", "[]");
  REQUIRE(c.kv->Update(ClusterRoleKey("system:basic-user"), custom, 0).ok());
  after_first = c.kv->CurrentRevision();
  clock.Advance(std::chrono::hours(1));
  REQUIRE(kite::auth::EnsureBootstrapPolicy(c.kv.get(), &clock).ok());
  CHECK(c.kv->CurrentRevision() == after_first);
  CHECK(c.kv->Get(ClusterRoleKey("system:basic-user"))->value == custom);
  CHECK(c.kv->Get(ClusterRoleKey("admin"))->value == admin->value);
  REQUIRE(c.kv->Update(ClusterRoleKey("system:basic-user"), basic_user->value, 0).ok());

  // Stored like the API server stores objects.
  auto binding = c.kv->Get(ClusterRoleBindingKey("cluster-admin"));
  REQUIRE(binding.ok());
  CHECK(
      binding->value.rfind(
          R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"cluster-admin","uid":")",
          0) == 0);
  rapidjson::Document doc;
  doc.Parse(admin->value.c_str());
  REQUIRE(doc.IsObject());
  const auto& md = doc["metadata"];
  CHECK(std::string(md["creationTimestamp"].GetString()) == "2023-11-14T22:13:20Z");
  CHECK(std::string(md["uid"].GetString()).size() == 36);
  CHECK_FALSE(md.HasMember("resourceVersion"));
  CHECK(std::string(md["labels"]["kubernetes.io/bootstrapping"].GetString()) == "rbac-defaults");
  CHECK(std::string(md["annotations"]["rbac.authorization.kubernetes.io/autoupdate"].GetString()) ==
        "true");
  CHECK(doc["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"]
           ["rbac.authorization.k8s.io/aggregate-to-admin"] == "true");
  CHECK(doc["rules"].Size() > 10);  // pre-filled with the aggregation result

  c.Start();
  const std::string kDev = "dev";
  // Default bindings.
  CHECK(c.Allowed(Url("anyone", kAuthenticated, "get", "/apis/apps/v1")));
  CHECK(c.Allowed(Url("anyone", kAuthenticated, "get", "/version")));
  CHECK(c.Allowed(Url("system:anonymous", {"system:unauthenticated"}, "get", "/healthz")));
  CHECK_FALSE(c.Allowed(Url("system:anonymous", {"system:unauthenticated"}, "get", "/apis")));
  CHECK_FALSE(c.Allowed(Resource("anyone", kAuthenticated, "list", "", "pods", kDev)));
  CHECK(c.Allowed(Resource("anyone", kAuthenticated, "create", "authorization.k8s.io",
                           "selfsubjectrulesreviews", "")));
  CHECK_FALSE(c.Allowed(Resource("anyone", kAuthenticated, "create", "authorization.k8s.io",
                                 "subjectaccessreviews", "")));
  Decision master =
      c.authz->Authorize(Resource("root", {"system:masters"}, "delete", "", "nodes", "", "n"));
  CHECK(master.allowed);

  // system:node.
  Groups node = {"system:nodes", "system:authenticated"};
  CHECK(c.Allowed(Resource("system:node:n1", node, "update", "", "nodes", "", "n1", "status")));
  CHECK(c.Allowed(Resource("system:node:n1", node, "patch", "", "pods", kDev, "p", "status")));
  CHECK(c.Allowed(Resource("system:node:n1", node, "watch", "", "pods", "")));
  CHECK(c.Allowed(Resource("system:node:n1", node, "update", "coordination.k8s.io", "leases",
                           "kube-node-lease", "n1")));
  CHECK(c.Allowed(Resource("system:node:n1", node, "get", "", "secrets", kDev, "s")));
  CHECK(c.Allowed(Resource("system:node:n1", node, "create", "", "events", kDev)));
  CHECK_FALSE(c.Allowed(Resource("system:node:n1", node, "delete", "", "nodes", "", "n2")));
  CHECK_FALSE(c.Allowed(Resource("system:node:n1", node, "create", "", "secrets", kDev)));

  // view ⊂ edit ⊂ admin, bound in one namespace.
  for (const char* role : {"view", "edit", "admin"}) {
    std::string name = std::string(role) + "-binding";
    c.Put(RoleBindingKey(kDev, name), BindingJson("RoleBinding", kDev, name, "ClusterRole", role,
                                                  UserSubject(std::string(role) + "-user")));
  }
  CHECK(c.Allowed(Resource("view-user", kAuthenticated, "list", "apps", "deployments", kDev)));
  CHECK(c.Allowed(Resource("view-user", kAuthenticated, "get", "", "pods", kDev, "p", "log")));
  CHECK_FALSE(c.Allowed(Resource("view-user", kAuthenticated, "get", "", "secrets", kDev, "s")));
  CHECK_FALSE(c.Allowed(Resource("view-user", kAuthenticated, "create", "", "pods", kDev)));
  CHECK_FALSE(c.Allowed(Resource("view-user", kAuthenticated, "list", "", "pods", "other")));

  CHECK(c.Allowed(Resource("edit-user", kAuthenticated, "get", "", "secrets", kDev, "s")));
  CHECK(c.Allowed(Resource("edit-user", kAuthenticated, "create", "", "pods", kDev)));
  CHECK(c.Allowed(
      Resource("edit-user", kAuthenticated, "update", "apps", "deployments", kDev, "d", "scale")));
  CHECK(
      c.Allowed(Resource("edit-user", kAuthenticated, "list", "batch", "jobs", kDev)));  // via view
  CHECK_FALSE(c.Allowed(Resource("edit-user", kAuthenticated, "create", "rbac.authorization.k8s.io",
                                 "rolebindings", kDev)));

  CHECK(c.Allowed(Resource("admin-user", kAuthenticated, "create", "rbac.authorization.k8s.io",
                           "rolebindings", kDev)));
  CHECK(c.Allowed(
      Resource("admin-user", kAuthenticated, "delete", "", "pods", kDev, "p")));  // via edit
  CHECK(c.Allowed(
      Resource("admin-user", kAuthenticated, "watch", "", "namespaces", kDev)));  // via view
  CHECK_FALSE(c.Allowed(Resource("admin-user", kAuthenticated, "delete", "", "nodes", "", "n")));

  // A role labelled for aggregation extends the defaults.
  c.Put(
      ClusterRoleKey("crontab-view"),
      ClusterRoleJson(
          "crontab-view",
          R"([{"verbs":["get","list","watch"],"apiGroups":["stable.example.com"],"resources":["crontabs"]}])",
          R"({"rbac.authorization.k8s.io/aggregate-to-view":"true"})"));
  CHECK(c.Allowed(
      Resource("view-user", kAuthenticated, "list", "stable.example.com", "crontabs", kDev)));
  CHECK(c.Allowed(
      Resource("admin-user", kAuthenticated, "list", "stable.example.com", "crontabs", kDev)));
}

TEST_CASE("the authorizer stops promptly") {
  auto kv = kite::store::OpenStore("memory://").value();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto authz = RbacAuthorizer::Start(kv.get());
    REQUIRE(authz.ok());
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}
