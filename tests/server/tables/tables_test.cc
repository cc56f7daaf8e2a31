#include "src/server/tables/table_printer.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "src/server/tables/timestamp.h"

namespace kite::tables {
namespace {

// All tests run at this instant; objects are created an hour earlier.
constexpr const char* kNow = "2024-05-01T12:00:00Z";

TableOptions Options() {
  TableOptions o;
  o.now = std::chrono::system_clock::time_point(ParseTimestamp(kNow)->time_since_epoch());
  return o;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  INFO(json);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

// Builds a one-row table for `object_json`.
rapidjson::Document Table(std::string_view group, std::string_view kind,
                          const std::string& object_json, TableOptions options = Options()) {
  rapidjson::Document obj = Parse(object_json);
  rapidjson::Document out;
  BuildTable(group, kind, {&obj}, nullptr, options, out);
  return out;
}

std::vector<std::string> ColumnNames(const rapidjson::Value& table) {
  std::vector<std::string> names;
  for (auto& c : table["columnDefinitions"].GetArray()) names.push_back(c["name"].GetString());
  return names;
}

std::vector<int> Priorities(const rapidjson::Value& table) {
  std::vector<int> p;
  for (auto& c : table["columnDefinitions"].GetArray()) p.push_back(c["priority"].GetInt());
  return p;
}

// Cell `i` of row `row`, as text (integers and booleans spelled out, null as "null").
std::string Cell(const rapidjson::Value& table, size_t i, size_t row = 0) {
  const rapidjson::Value& cells = table["rows"][static_cast<rapidjson::SizeType>(row)]["cells"];
  REQUIRE(i < cells.Size());
  const rapidjson::Value& c = cells[static_cast<rapidjson::SizeType>(i)];
  if (c.IsString()) return c.GetString();
  if (c.IsInt64()) return std::to_string(c.GetInt64());
  if (c.IsBool()) return c.GetBool() ? "true" : "false";
  if (c.IsNull()) return "null";
  return "<other>";
}

// The cells of a row that the default (non-wide) kubectl view shows.
std::vector<std::string> NarrowCells(const rapidjson::Value& table, size_t row = 0) {
  std::vector<std::string> out;
  const auto& defs = table["columnDefinitions"];
  for (rapidjson::SizeType i = 0; i < defs.Size(); ++i) {
    if (defs[i]["priority"].GetInt() == 0) out.push_back(Cell(table, i, row));
  }
  return out;
}

std::string Pod(const std::string& spec, const std::string& status,
                const std::string& extra_metadata = "") {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"default",)"
         R"("uid":"u1","resourceVersion":"42","creationTimestamp":"2024-05-01T11:00:00Z")" +
         extra_metadata + R"(},"spec":)" + spec + R"(,"status":)" + status + "}";
}

constexpr const char* kOneContainer = R"({"containers":[{"name":"app","image":"nginx"}]})";

// ---------------------------------------------------------------------------------------------

TEST_CASE("Pod columns and wide priorities", "[tables]") {
  auto t = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Pending"})"));
  CHECK(std::string(t["kind"].GetString()) == "Table");
  CHECK(std::string(t["apiVersion"].GetString()) == "meta.k8s.io/v1");
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age",
                                                   "IP", "Node", "Nominated Node",
                                                   "Readiness Gates"});
  CHECK(Priorities(t) == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1});
  CHECK(std::string(t["columnDefinitions"][0]["format"].GetString()) == "name");
  // Rows carry the wide cells too; kubectl filters by priority.
  CHECK(t["rows"][0]["cells"].Size() == 9);
}

TEST_CASE("Pod status: Pending, Running and ContainerCreating", "[tables]") {
  auto pending = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Pending"})"));
  CHECK(NarrowCells(pending) == std::vector<std::string>{"web-1", "0/1", "Pending", "0", "60m"});

  auto running = Table("", "Pod", Pod(R"({"containers":[{"name":"a"},{"name":"b"}]})", R"({
      "phase":"Running","conditions":[{"type":"Ready","status":"True"}],
      "containerStatuses":[
        {"name":"a","ready":true,"restartCount":0,
         "state":{"running":{"startedAt":"2024-05-01T11:00:05Z"}}},
        {"name":"b","ready":true,"restartCount":0,"state":{"running":{}}}]})"));
  CHECK(NarrowCells(running) == std::vector<std::string>{"web-1", "2/2", "Running", "0", "60m"});

  auto creating = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Pending",
      "containerStatuses":[{"name":"app","ready":false,"restartCount":0,
                            "state":{"waiting":{"reason":"ContainerCreating"}}}]})"));
  CHECK(Cell(creating, 1) == "0/1");
  CHECK(Cell(creating, 2) == "ContainerCreating");
}

TEST_CASE("Pod status: CrashLoopBackOff with restarts and last restart age", "[tables]") {
  auto t = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Running",
      "containerStatuses":[{"name":"app","ready":false,"restartCount":5,
        "state":{"waiting":{"reason":"CrashLoopBackOff","message":"back-off"}},
        "lastState":{"terminated":{"exitCode":1,"reason":"Error",
                                   "finishedAt":"2024-05-01T11:55:00Z"}}}]})"));
  CHECK(Cell(t, 1) == "0/1");
  CHECK(Cell(t, 2) == "CrashLoopBackOff");
  CHECK(Cell(t, 3) == "5 (5m ago)");
}

TEST_CASE("Pod restarts without a known last termination have no suffix", "[tables]") {
  auto t = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Running",
      "containerStatuses":[{"name":"app","ready":true,"restartCount":2,
                            "state":{"running":{}}}]})"));
  CHECK(Cell(t, 3) == "2");
  CHECK(Cell(t, 2) == "Running");
}

TEST_CASE("Pod status: Completed marks the row", "[tables]") {
  auto t = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Succeeded",
      "containerStatuses":[{"name":"app","ready":false,"restartCount":0,
        "state":{"terminated":{"exitCode":0,"reason":"Completed"}}}]})"));
  CHECK(Cell(t, 1) == "0/1");
  CHECK(Cell(t, 2) == "Completed");
  const auto& conds = t["rows"][0]["conditions"];
  REQUIRE(conds.IsArray());
  CHECK(std::string(conds[0]["type"].GetString()) == "Completed");
  CHECK(std::string(conds[0]["status"].GetString()) == "True");
  CHECK(std::string(conds[0]["reason"].GetString()) == "Succeeded");

  // A running pod has no row conditions at all.
  auto running = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Running"})"));
  CHECK_FALSE(running["rows"][0].HasMember("conditions"));
}

TEST_CASE("Pod status: a still-running container turns Completed into Running", "[tables]") {
  const char* two = R"({"containers":[{"name":"a"},{"name":"b"}]})";
  const std::string statuses = R"("containerStatuses":[
      {"name":"a","ready":false,"state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
      {"name":"b","ready":true,"state":{"running":{}}}])";
  auto ready = Table("", "Pod", Pod(two, R"({"phase":"Running",
      "conditions":[{"type":"Ready","status":"True"}],)" + statuses + "}"));
  CHECK(Cell(ready, 2) == "Running");
  CHECK(Cell(ready, 1) == "1/2");
  auto not_ready = Table("", "Pod", Pod(two, R"({"phase":"Running",)" + statuses + "}"));
  CHECK(Cell(not_ready, 2) == "NotReady");
}

TEST_CASE("Pod status: terminated without a reason shows the exit code or signal", "[tables]") {
  auto exit = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Running","containerStatuses":[
      {"name":"app","state":{"terminated":{"exitCode":137}}}]})"));
  CHECK(Cell(exit, 2) == "ExitCode:137");
  auto signal = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Running","containerStatuses":[
      {"name":"app","state":{"terminated":{"exitCode":0,"signal":9}}}]})"));
  CHECK(Cell(signal, 2) == "Signal:9");
}

TEST_CASE("Pod status: init containers", "[tables]") {
  const char* spec = R"({"initContainers":[{"name":"init"}],"containers":[{"name":"app"}]})";
  auto running_init = Table("", "Pod", Pod(spec, R"({"phase":"Pending",
      "initContainerStatuses":[{"name":"init","ready":false,"restartCount":0,
                                "state":{"running":{}}}],
      "containerStatuses":[{"name":"app","state":{"waiting":{"reason":"PodInitializing"}}}]})"));
  CHECK(Cell(running_init, 2) == "Init:0/1");
  CHECK(Cell(running_init, 1) == "0/1");

  auto crashing = Table("", "Pod", Pod(spec, R"({"phase":"Pending",
      "initContainerStatuses":[{"name":"init","restartCount":3,
        "state":{"waiting":{"reason":"CrashLoopBackOff"}},
        "lastState":{"terminated":{"exitCode":1,"finishedAt":"2024-05-01T11:58:00Z"}}}]})"));
  CHECK(Cell(crashing, 2) == "Init:CrashLoopBackOff");
  CHECK(Cell(crashing, 3) == "3 (2m ago)");  // init restarts count while initializing

  auto failed = Table("", "Pod", Pod(spec, R"({"phase":"Pending",
      "initContainerStatuses":[{"name":"init","state":{"terminated":{"exitCode":2,
                                                                      "reason":"Error"}}}]})"));
  CHECK(Cell(failed, 2) == "Init:Error");

  auto two_inits = Table("", "Pod",
                         Pod(R"({"initContainers":[{"name":"a"},{"name":"b"}],
                                 "containers":[{"name":"app"}]})",
                             R"({"phase":"Pending","initContainerStatuses":[
          {"name":"a","state":{"terminated":{"exitCode":0,"reason":"Completed"}}},
          {"name":"b","state":{"running":{}}}]})"));
  CHECK(Cell(two_inits, 2) == "Init:1/2");
}

TEST_CASE("Pod ready count includes started sidecars", "[tables]") {
  auto t = Table("", "Pod",
                 Pod(R"({"initContainers":[{"name":"proxy","restartPolicy":"Always"}],
                         "containers":[{"name":"app"}]})",
                     R"({"phase":"Running","conditions":[{"type":"Initialized","status":"True"}],
        "initContainerStatuses":[{"name":"proxy","ready":true,"started":true,"restartCount":1,
                                  "state":{"running":{}}}],
        "containerStatuses":[{"name":"app","ready":true,"restartCount":0,
                              "state":{"running":{}}}]})"));
  CHECK(Cell(t, 1) == "2/2");
  CHECK(Cell(t, 2) == "Running");
  CHECK(Cell(t, 3) == "1");  // sidecar restarts stay in the count after initialization
}

TEST_CASE("Pod status: Terminating and Unknown when deleted", "[tables]") {
  const char* deleting = R"(,"deletionTimestamp":"2024-05-01T11:59:00Z")";
  auto t = Table("", "Pod",
                 Pod(kOneContainer, R"({"phase":"Running","containerStatuses":[
                     {"name":"app","ready":true,"state":{"running":{}}}]})", deleting));
  CHECK(Cell(t, 2) == "Terminating");
  auto lost = Table("", "Pod",
                    Pod(kOneContainer, R"({"phase":"Running","reason":"NodeLost"})", deleting));
  CHECK(Cell(lost, 2) == "Unknown");
  // A finished pod being deleted keeps its final state.
  auto done = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Succeeded"})", deleting));
  CHECK(Cell(done, 2) == "Succeeded");
}

TEST_CASE("Pod status: SchedulingGated and pod-level reasons", "[tables]") {
  auto gated = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Pending","conditions":[
      {"type":"PodScheduled","status":"False","reason":"SchedulingGated"}]})"));
  CHECK(Cell(gated, 2) == "SchedulingGated");
  auto evicted = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Failed","reason":"Evicted"})"));
  CHECK(Cell(evicted, 2) == "Evicted");
}

TEST_CASE("Pod wide cells: IP, node, nominated node, readiness gates", "[tables]") {
  auto t = Table("", "Pod",
                 Pod(R"({"nodeName":"n1","containers":[{"name":"app"}],
                         "readinessGates":[{"conditionType":"a"},{"conditionType":"b"}]})",
                     R"({"phase":"Running","podIP":"10.0.0.5",
                         "podIPs":[{"ip":"10.0.0.5"},{"ip":"fd00::5"}],
                         "conditions":[{"type":"a","status":"True"},
                                       {"type":"b","status":"False"}]})"));
  CHECK(Cell(t, 5) == "10.0.0.5");
  CHECK(Cell(t, 6) == "n1");
  CHECK(Cell(t, 7) == "<none>");
  CHECK(Cell(t, 8) == "1/2");

  auto bare = Table("", "Pod", Pod(kOneContainer, R"({"phase":"Pending"})"));
  CHECK(Cell(bare, 5) == "<none>");
  CHECK(Cell(bare, 6) == "<none>");
  CHECK(Cell(bare, 8) == "<none>");
}

TEST_CASE("Pod AGE is <unknown> without a creation timestamp", "[tables]") {
  auto t = Table("", "Pod", R"({"kind":"Pod","metadata":{"name":"x"},"spec":{}})");
  CHECK(Cell(t, 4) == "<unknown>");
  CHECK(Cell(t, 1) == "0/0");
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("Deployment columns", "[tables]") {
  auto t = Table("apps", "Deployment", R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","creationTimestamp":"2024-04-29T09:00:00Z"},
      "spec":{"replicas":3,
              "selector":{"matchLabels":{"app":"web"},
                          "matchExpressions":[{"key":"tier","operator":"In",
                                               "values":["b","a"]}]},
              "template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25"},
                                                {"name":"log","image":"busybox"}]}}},
      "status":{"replicas":3,"readyReplicas":2,"updatedReplicas":3,"availableReplicas":2}})");
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Ready", "Up-to-date", "Available",
                                                   "Age", "Containers", "Images", "Selector"});
  CHECK(Priorities(t) == std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1});
  CHECK(NarrowCells(t) == std::vector<std::string>{"web", "2/3", "3", "2", "2d3h"});
  CHECK(t["rows"][0]["cells"][2].IsInt64());
  CHECK(Cell(t, 5) == "web,log");
  CHECK(Cell(t, 6) == "nginx:1.25,busybox");
  CHECK(Cell(t, 7) == "app=web,tier in (a,b)");
}

TEST_CASE("ReplicaSet, StatefulSet and DaemonSet cells", "[tables]") {
  auto rs = Table("apps", "ReplicaSet", R"({"metadata":{"name":"web-5d8"},
      "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}}},
      "status":{"replicas":2,"readyReplicas":1}})");
  CHECK(Cell(rs, 1) == "2");
  CHECK(Cell(rs, 2) == "2");
  CHECK(Cell(rs, 3) == "1");
  CHECK(Cell(rs, 7) == "app=web");

  auto sts = Table("apps", "StatefulSet", R"({"metadata":{"name":"db"},
      "spec":{"replicas":3},"status":{"readyReplicas":3}})");
  CHECK(ColumnNames(sts) ==
        std::vector<std::string>{"Name", "Ready", "Age", "Containers", "Images"});
  CHECK(Cell(sts, 1) == "3/3");

  auto ds = Table("apps", "DaemonSet", R"({"metadata":{"name":"agent"},
      "spec":{"selector":{},"template":{"spec":{"nodeSelector":{"os":"linux"}}}},
      "status":{"desiredNumberScheduled":2,"currentNumberScheduled":2,"numberReady":1,
                "updatedNumberScheduled":2,"numberAvailable":1}})");
  CHECK(NarrowCells(ds) ==
        std::vector<std::string>{"agent", "2", "2", "1", "2", "1", "os=linux", "<unknown>"});
  CHECK(Cell(ds, 10) == "<none>");  // an empty selector
}

TEST_CASE("Job status, completions and duration", "[tables]") {
  auto running = Table("batch", "Job", R"({"metadata":{"name":"pi"},
      "spec":{"completions":3,"parallelism":1},
      "status":{"succeeded":1,"startTime":"2024-05-01T11:57:00Z"}})");
  CHECK(ColumnNames(running) ==
        std::vector<std::string>{"Name", "Status", "Completions", "Duration", "Age",
                                 "Containers", "Images", "Selector"});
  CHECK(Cell(running, 1) == "Running");
  CHECK(Cell(running, 2) == "1/3");
  CHECK(Cell(running, 3) == "3m");

  auto complete = Table("batch", "Job", R"({"metadata":{"name":"pi"},"spec":{"parallelism":4},
      "status":{"succeeded":1,"startTime":"2024-05-01T11:00:00Z",
                "completionTime":"2024-05-01T11:00:42Z",
                "conditions":[{"type":"Complete","status":"True"}]}})");
  CHECK(Cell(complete, 1) == "Complete");
  CHECK(Cell(complete, 2) == "1/1 of 4");
  CHECK(Cell(complete, 3) == "42s");

  auto failed = Table("batch", "Job", R"({"metadata":{"name":"pi"},"spec":{},
      "status":{"conditions":[{"type":"Failed","status":"True"}]}})");
  CHECK(Cell(failed, 1) == "Failed");
  CHECK(Cell(failed, 2) == "0/1");
  CHECK(Cell(failed, 3) == "");

  auto suspended = Table("batch", "Job", R"({"metadata":{"name":"pi"},"spec":{},
      "status":{"conditions":[{"type":"Suspended","status":"True"}]}})");
  CHECK(Cell(suspended, 1) == "Suspended");
}

TEST_CASE("CronJob cells", "[tables]") {
  auto t = Table("batch", "CronJob", R"({"metadata":{"name":"nightly"},
      "spec":{"schedule":"0 3 * * *","suspend":false,
              "jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c",
                                                                        "image":"i"}]}}}}},
      "status":{"active":[{"name":"j1"}],"lastScheduleTime":"2024-05-01T11:59:00Z"}})");
  CHECK(NarrowCells(t) == std::vector<std::string>{"nightly", "0 3 * * *", "<none>", "False",
                                                   "1", "60s", "<unknown>"});
}

TEST_CASE("HorizontalPodAutoscaler targets", "[tables]") {
  auto t = Table("autoscaling", "HorizontalPodAutoscaler", R"({"metadata":{"name":"web"},
      "spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"minReplicas":1,
              "maxReplicas":5,
              "metrics":[{"type":"Resource","resource":{"name":"cpu",
                          "target":{"type":"Utilization","averageUtilization":80}}},
                         {"type":"Resource","resource":{"name":"memory",
                          "target":{"type":"AverageValue","averageValue":"100Mi"}}}]},
      "status":{"currentReplicas":2,
                "currentMetrics":[{"type":"Resource","resource":{"name":"cpu",
                                   "current":{"averageUtilization":35}}}]}})");
  CHECK(NarrowCells(t) ==
        std::vector<std::string>{"web", "Deployment/web", "cpu: 35%/80%, memory: <unknown>/100Mi",
                                 "1", "5", "2", "<unknown>"});
}

TEST_CASE("PodDisruptionBudget and ControllerRevision cells", "[tables]") {
  auto pdb = Table("policy", "PodDisruptionBudget", R"({"metadata":{"name":"p"},
      "spec":{"minAvailable":"50%"},"status":{"disruptionsAllowed":1}})");
  CHECK(NarrowCells(pdb) == std::vector<std::string>{"p", "50%", "N/A", "1", "<unknown>"});

  auto cr = Table("apps", "ControllerRevision", R"({"metadata":{"name":"agent-7f9",
      "ownerReferences":[{"apiVersion":"apps/v1","kind":"DaemonSet","name":"agent",
                          "controller":true}]},"revision":4})");
  CHECK(Cell(cr, 1) == "daemonset.apps/agent");
  CHECK(Cell(cr, 2) == "4");
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("Service ports, IPs and selector", "[tables]") {
  auto t = Table("", "Service", R"({"metadata":{"name":"web"},
      "spec":{"type":"NodePort","clusterIP":"10.43.0.10","clusterIPs":["10.43.0.10"],
              "ports":[{"port":80,"protocol":"TCP"},
                       {"port":443,"nodePort":30443,"protocol":"TCP"}],
              "selector":{"app":"web","tier":"front"}}})");
  CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Type", "Cluster-IP", "External-IP",
                                                   "Port(s)", "Age", "Selector"});
  CHECK(Priorities(t) == std::vector<int>{0, 0, 0, 0, 0, 0, 1});
  CHECK(NarrowCells(t) == std::vector<std::string>{"web", "NodePort", "10.43.0.10", "<none>",
                                                   "80/TCP,443:30443/TCP", "<unknown>"});
  CHECK(Cell(t, 6) == "app=web,tier=front");

  auto lb = Table("", "Service", R"({"metadata":{"name":"lb"},"spec":{"type":"LoadBalancer",
      "clusterIPs":["10.43.0.11"],"ports":[{"port":53,"protocol":"UDP","nodePort":31000}]}})");
  CHECK(Cell(lb, 3) == "<pending>");
  CHECK(Cell(lb, 4) == "53:31000/UDP");
  CHECK(Cell(lb, 6) == "<none>");

  auto lb_ready = Table("", "Service", R"({"metadata":{"name":"lb"},
      "spec":{"type":"LoadBalancer","externalIPs":["1.2.3.4"]},
      "status":{"loadBalancer":{"ingress":[{"ip":"192.168.1.9"},{"hostname":"lb.example"}]}}})");
  CHECK(Cell(lb_ready, 3) == "192.168.1.9,lb.example,1.2.3.4");
  CHECK(Cell(lb_ready, 4) == "<none>");

  auto ext = Table("", "Service", R"({"metadata":{"name":"x"},
      "spec":{"type":"ExternalName","externalName":"db.example.com"}})");
  CHECK(Cell(ext, 2) == "<none>");
  CHECK(Cell(ext, 3) == "db.example.com");
}

TEST_CASE("Endpoints and EndpointSlice cells", "[tables]") {
  auto ep = Table("", "Endpoints", R"({"metadata":{"name":"web"},"subsets":[
      {"addresses":[{"ip":"10.42.0.5"},{"ip":"10.42.0.6"},{"ip":"fd00::7"}],
       "ports":[{"port":8080},{"port":9090}]}]})");
  CHECK(Cell(ep, 1) == "10.42.0.5:8080,10.42.0.6:8080,[fd00::7]:8080 + 3 more...");
  auto empty = Table("", "Endpoints", R"({"metadata":{"name":"web"}})");
  CHECK(Cell(empty, 1) == "<none>");

  auto slice = Table("discovery.k8s.io", "EndpointSlice", R"({"metadata":{"name":"web-abc"},
      "addressType":"IPv4","ports":[{"name":"http","port":80},{"name":"named"},{}],
      "endpoints":[{"addresses":["10.42.0.5"]}]})");
  CHECK(NarrowCells(slice) ==
        std::vector<std::string>{"web-abc", "IPv4", "80,named,*", "10.42.0.5", "<unknown>"});
  auto unset = Table("discovery.k8s.io", "EndpointSlice",
                     R"({"metadata":{"name":"e"},"addressType":"IPv4"})");
  CHECK(Cell(unset, 2) == "<unset>");
  CHECK(Cell(unset, 3) == "<unset>");
}

TEST_CASE("Node status, roles and wide cells", "[tables]") {
  auto t = Table("", "Node", R"({"metadata":{"name":"n1","creationTimestamp":"2024-05-01T11:58:30Z",
      "labels":{"node-role.kubernetes.io/control-plane":"","node-role.kubernetes.io/master":"",
                "kubernetes.io/role":"edge","kubernetes.io/hostname":"n1"}},
      "spec":{"unschedulable":true},
      "status":{"conditions":[{"type":"MemoryPressure","status":"False"},
                              {"type":"Ready","status":"True"}],
                "addresses":[{"type":"InternalIP","address":"192.168.1.10"},
                             {"type":"Hostname","address":"n1"}],
                "nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian GNU/Linux 12",
                            "kernelVersion":"6.1.0",
                            "containerRuntimeVersion":"containerd://1.6"}}})");
  CHECK(NarrowCells(t) == std::vector<std::string>{"n1", "Ready,SchedulingDisabled",
                                                   "control-plane,edge,master", "90s",
                                                   "v1.32.0"});
  CHECK(Cell(t, 5) == "192.168.1.10");
  CHECK(Cell(t, 6) == "<none>");
  CHECK(Cell(t, 9) == "containerd://1.6");

  auto unknown = Table("", "Node", R"({"metadata":{"name":"n2"},"status":{}})");
  CHECK(Cell(unknown, 1) == "Unknown");
  CHECK(Cell(unknown, 2) == "<none>");
  CHECK(Cell(unknown, 7) == "<unknown>");
}

TEST_CASE("Namespace, ConfigMap, Secret and ServiceAccount cells", "[tables]") {
  auto ns = Table("", "Namespace",
                  R"({"metadata":{"name":"kube-system"},"status":{"phase":"Active"}})");
  CHECK(ColumnNames(ns) == std::vector<std::string>{"Name", "Status", "Age"});
  CHECK(Cell(ns, 1) == "Active");

  auto cm = Table("", "ConfigMap", R"({"metadata":{"name":"c"},"data":{"a":"1","b":"2"},
                                      "binaryData":{"c":"AA=="}})");
  CHECK(Cell(cm, 1) == "3");
  CHECK(cm["rows"][0]["cells"][1].IsInt64());

  auto secret = Table("", "Secret",
                      R"({"metadata":{"name":"s"},"type":"Opaque","data":{"k":"dg=="}})");
  CHECK(NarrowCells(secret) == std::vector<std::string>{"s", "Opaque", "1", "<unknown>"});

  auto sa = Table("", "ServiceAccount", R"({"metadata":{"name":"default"}})");
  CHECK(Cell(sa, 1) == "0");
}

TEST_CASE("Event cells", "[tables]") {
  auto t = Table("", "Event", R"({"metadata":{"name":"web-1.17a"},
      "involvedObject":{"kind":"Pod","name":"web-1","fieldPath":"spec.containers{app}"},
      "reason":"Pulled","type":"Normal","message":"  Image pulled \n",
      "source":{"component":"kubelet","host":"n1"},
      "firstTimestamp":"2024-05-01T11:50:00Z","lastTimestamp":"2024-05-01T11:59:00Z",
      "count":3})");
  CHECK(ColumnNames(t) ==
        std::vector<std::string>{"Last Seen", "Type", "Reason", "Object", "Subobject", "Source",
                                 "Message", "First Seen", "Count", "Name"});
  CHECK(NarrowCells(t) ==
        std::vector<std::string>{"60s", "Normal", "Pulled", "pod/web-1", "Image pulled"});
  CHECK(Cell(t, 4) == "spec.containers{app}");
  CHECK(Cell(t, 5) == "kubelet, n1");
  CHECK(Cell(t, 7) == "10m");
  CHECK(Cell(t, 8) == "3");
  CHECK(Cell(t, 9) == "web-1.17a");

  // New-style events: eventTime, no count, reporting controller instead of source.
  auto modern = Table("events.k8s.io", "Event", R"({"metadata":{"name":"e"},
      "regarding":{"kind":"Node","name":"n1"},"reason":"Started","type":"Normal",
      "note":"ok","eventTime":"2024-05-01T11:59:30.000000Z",
      "reportingController":"kite-agent"})");
  CHECK(NarrowCells(modern) ==
        std::vector<std::string>{"30s", "Normal", "Started", "node/n1", "ok"});
  CHECK(Cell(modern, 5) == "kite-agent");
  CHECK(Cell(modern, 8) == "1");
}

TEST_CASE("PersistentVolume and PersistentVolumeClaim cells", "[tables]") {
  auto pv = Table("", "PersistentVolume", R"({"metadata":{"name":"pv1"},
      "spec":{"capacity":{"storage":"10Gi"},"accessModes":["ReadWriteMany","ReadWriteOnce"],
              "persistentVolumeReclaimPolicy":"Retain","storageClassName":"local",
              "claimRef":{"namespace":"default","name":"data"},"volumeMode":"Filesystem"},
      "status":{"phase":"Bound"}})");
  CHECK(Cell(pv, 1) == "10Gi");
  CHECK(Cell(pv, 2) == "RWO,RWX");
  CHECK(Cell(pv, 3) == "Retain");
  CHECK(Cell(pv, 4) == "Bound");
  CHECK(Cell(pv, 5) == "default/data");
  CHECK(Cell(pv, 6) == "local");
  CHECK(Cell(pv, 7) == "<unset>");
  CHECK(Cell(pv, 10) == "Filesystem");

  auto pending = Table("", "PersistentVolumeClaim", R"({"metadata":{"name":"data"},
      "spec":{"resources":{"requests":{"storage":"1Gi"}},"storageClassName":"local"},
      "status":{"phase":"Pending"}})");
  CHECK(NarrowCells(pending) == std::vector<std::string>{"data", "Pending", "", "", "", "local",
                                                         "<unset>", "<unknown>"});
  auto bound = Table("", "PersistentVolumeClaim", R"({"metadata":{"name":"data"},
      "spec":{"volumeName":"pv1"},
      "status":{"phase":"Bound","capacity":{"storage":"10Gi"},"accessModes":["ReadWriteOnce"]}})");
  CHECK(Cell(bound, 3) == "10Gi");
  CHECK(Cell(bound, 4) == "RWO");
}

TEST_CASE("ResourceQuota splits requests and limits", "[tables]") {
  auto t = Table("", "ResourceQuota", R"({"metadata":{"name":"q"},
      "status":{"hard":{"pods":"10","limits.cpu":"2","requests.cpu":"1","limits.memory":"1Gi"},
                "used":{"pods":"3","limits.cpu":"500m","requests.cpu":"250m"}}})");
  CHECK(Cell(t, 1) == "pods: 3/10, requests.cpu: 250m/1");
  CHECK(Cell(t, 2) == "limits.cpu: 500m/2, limits.memory: 0/1Gi");
}

TEST_CASE("Networking, storage, RBAC, scheduling and coordination cells", "[tables]") {
  auto ing = Table("networking.k8s.io", "Ingress", R"({"metadata":{"name":"i"},
      "spec":{"ingressClassName":"traefik","rules":[{"host":"a.example"},{"host":"b.example"}],
              "tls":[{"hosts":["a.example"]}]},
      "status":{"loadBalancer":{"ingress":[{"ip":"192.168.1.9"}]}}})");
  CHECK(NarrowCells(ing) == std::vector<std::string>{"i", "traefik", "a.example,b.example",
                                                     "192.168.1.9", "80, 443", "<unknown>"});
  auto catch_all = Table("networking.k8s.io", "Ingress", R"({"metadata":{"name":"i"},"spec":{}})");
  CHECK(Cell(catch_all, 1) == "<none>");
  CHECK(Cell(catch_all, 2) == "*");
  CHECK(Cell(catch_all, 4) == "80");

  auto ic = Table("networking.k8s.io", "IngressClass", R"({"metadata":{"name":"traefik"},
      "spec":{"controller":"traefik.io/ingress-controller",
              "parameters":{"apiGroup":"k8s.example.com","kind":"Params","name":"p"}}})");
  CHECK(Cell(ic, 2) == "Params.k8s.example.com/p");

  auto np = Table("networking.k8s.io", "NetworkPolicy",
                  R"({"metadata":{"name":"deny"},"spec":{"podSelector":{}}})");
  CHECK(Cell(np, 1) == "<none>");

  auto sc = Table("storage.k8s.io", "StorageClass", R"({"metadata":{"name":"local-path",
      "annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
      "provisioner":"rancher.io/local-path","volumeBindingMode":"WaitForFirstConsumer"})");
  CHECK(NarrowCells(sc) == std::vector<std::string>{"local-path (default)",
                                                    "rancher.io/local-path", "Delete",
                                                    "WaitForFirstConsumer", "false", "<unknown>"});

  auto rb = Table("rbac.authorization.k8s.io", "ClusterRoleBinding", R"({"metadata":{"name":"b"},
      "roleRef":{"kind":"ClusterRole","name":"view"},
      "subjects":[{"kind":"User","name":"alice"},{"kind":"Group","name":"devs"},
                  {"kind":"ServiceAccount","namespace":"ci","name":"bot"},
                  {"kind":"User","name":"bob"}]})");
  CHECK(Priorities(rb) == std::vector<int>{0, 0, 0, 1, 1, 1});
  CHECK(Cell(rb, 1) == "ClusterRole/view");
  CHECK(Cell(rb, 3) == "alice, bob");
  CHECK(Cell(rb, 4) == "devs");
  CHECK(Cell(rb, 5) == "ci/bot");

  auto pc = Table("scheduling.k8s.io", "PriorityClass", R"({"metadata":{"name":"high"},
      "value":1000000,"globalDefault":false,"preemptionPolicy":"PreemptLowerPriority"})");
  CHECK(ColumnNames(pc) == std::vector<std::string>{"Name", "Value", "Global-Default", "Age",
                                                    "PreemptionPolicy"});
  CHECK(pc["rows"][0]["cells"][2].IsBool());
  CHECK(Cell(pc, 1) == "1000000");
  CHECK(Cell(pc, 4) == "PreemptLowerPriority");

  auto lease = Table("coordination.k8s.io", "Lease", R"({"metadata":{"name":"n1"},
      "spec":{"holderIdentity":"n1","leaseDurationSeconds":40}})");
  CHECK(NarrowCells(lease) == std::vector<std::string>{"n1", "n1", "<unknown>"});
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("Kinds without a printer get the default Name / Created At table", "[tables]") {
  for (auto [group, kind] : std::vector<std::pair<std::string, std::string>>{
           {"", "LimitRange"},
           {"rbac.authorization.k8s.io", "Role"},
           {"rbac.authorization.k8s.io", "ClusterRole"},
           {"apiextensions.k8s.io", "CustomResourceDefinition"},
           {"example.com", "Widget"}}) {
    INFO(group << "/" << kind);
    CHECK_FALSE(HasBuiltinColumns(group, kind));
    auto t = Table(group, kind, R"({"metadata":{"name":"limits",
        "creationTimestamp":"2024-05-01T13:00:00+02:00"}})");
    CHECK(ColumnNames(t) == std::vector<std::string>{"Name", "Created At"});
    CHECK(std::string(t["columnDefinitions"][1]["type"].GetString()) == "date");
    CHECK(Cell(t, 0) == "limits");
    CHECK(Cell(t, 1) == "2024-05-01T11:00:00Z");
  }
  CHECK(HasBuiltinColumns("", "Pod"));
  CHECK_FALSE(HasBuiltinColumns("apps", "Pod"));  // the group is part of the key

  auto no_time = Table("", "LimitRange", R"({"metadata":{"name":"l"}})");
  CHECK(Cell(no_time, 1) == "0001-01-01T00:00:00Z");
}

TEST_CASE("Row objects follow includeObject", "[tables]") {
  const std::string pod = Pod(kOneContainer, R"({"phase":"Running"})",
                              R"(,"labels":{"app":"web"})");
  auto meta = Table("", "Pod", pod);
  const auto& partial = meta["rows"][0]["object"];
  CHECK(std::string(partial["kind"].GetString()) == "PartialObjectMetadata");
  CHECK(std::string(partial["apiVersion"].GetString()) == "meta.k8s.io/v1");
  CHECK(std::string(partial["metadata"]["name"].GetString()) == "web-1");
  CHECK(std::string(partial["metadata"]["resourceVersion"].GetString()) == "42");
  CHECK(std::string(partial["metadata"]["labels"]["app"].GetString()) == "web");
  CHECK_FALSE(partial.HasMember("spec"));

  TableOptions whole = Options();
  whole.include_object = IncludeObject::kObject;
  auto full = Table("", "Pod", pod, whole);
  CHECK(std::string(full["rows"][0]["object"]["kind"].GetString()) == "Pod");
  CHECK(full["rows"][0]["object"]["spec"]["containers"].Size() == 1);

  TableOptions none = Options();
  none.include_object = IncludeObject::kNone;
  auto bare = Table("", "Pod", pod, none);
  CHECK(bare["rows"][0]["object"].IsNull());

  CHECK(ParseIncludeObject("").value() == IncludeObject::kMetadata);
  CHECK(ParseIncludeObject("Metadata").value() == IncludeObject::kMetadata);
  CHECK(ParseIncludeObject("Object").value() == IncludeObject::kObject);
  CHECK(ParseIncludeObject("None").value() == IncludeObject::kNone);
  CHECK(ParseIncludeObject("object").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Table metadata, several rows, and watch events without headers", "[tables]") {
  auto a = Parse(R"({"metadata":{"name":"a"},"status":{"phase":"Active"}})");
  auto b = Parse(R"({"metadata":{"name":"b"},"status":{"phase":"Terminating"}})");
  auto list_meta = Parse(R"({"resourceVersion":"77","continue":"tok","remainingItemCount":5,
                             "selfLink":"/api/v1/namespaces"})");
  rapidjson::Document out;
  BuildTable("", "Namespace", {&a, nullptr, &b}, &list_meta, Options(), out);
  CHECK(std::string(out["metadata"]["resourceVersion"].GetString()) == "77");
  CHECK(std::string(out["metadata"]["continue"].GetString()) == "tok");
  CHECK(out["metadata"]["remainingItemCount"].GetInt() == 5);
  CHECK_FALSE(out["metadata"].HasMember("selfLink"));
  REQUIRE(out["rows"].Size() == 2);
  CHECK(Cell(out, 1, 1) == "Terminating");

  TableOptions watch = Options();
  watch.include_column_definitions = false;
  rapidjson::Document event;
  BuildTable("", "Namespace", {&a}, nullptr, watch, event);
  CHECK(event["columnDefinitions"].IsNull());
  CHECK(event["metadata"].IsObject());
  CHECK(event["metadata"].MemberCount() == 0);
  CHECK(event["rows"][0]["cells"].Size() == 3);

  rapidjson::Document empty;
  BuildTable("", "Pod", {}, nullptr, Options(), empty);
  CHECK(empty["rows"].IsArray());
  CHECK(empty["rows"].Empty());
  CHECK(empty["columnDefinitions"].Size() == 9);
}

TEST_CASE("Printers survive objects of the wrong shape", "[tables]") {
  for (const char* kind : {"Pod", "Node", "Service", "Endpoints", "Event", "PersistentVolume",
                           "ResourceQuota", "Namespace"}) {
    INFO(kind);
    for (const char* json : {R"({})", R"({"metadata":7,"spec":[],"status":"x"})",
                             R"({"spec":{"containers":{},"ports":[1,null,"x"]},
                                 "status":{"conditions":[null,3],"containerStatuses":[{"state":7}],
                                           "initContainerStatuses":[null]}})",
                             R"([1,2,3])"}) {
      auto t = Table("", kind, json);
      CHECK(t["rows"].Size() == 1);
      CHECK(t["rows"][0]["cells"].Size() == t["columnDefinitions"].Size());
    }
  }
}

TEST_CASE("Every printer fills one cell per column", "[tables]") {
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"", "Pod"}, {"", "Node"}, {"", "Namespace"}, {"", "Service"}, {"", "Endpoints"},
      {"", "ConfigMap"}, {"", "Secret"}, {"", "ServiceAccount"}, {"", "Event"},
      {"events.k8s.io", "Event"}, {"", "PersistentVolume"}, {"", "PersistentVolumeClaim"},
      {"", "ResourceQuota"}, {"", "ReplicationController"}, {"", "PodTemplate"},
      {"apps", "Deployment"}, {"apps", "ReplicaSet"}, {"apps", "StatefulSet"},
      {"apps", "DaemonSet"}, {"apps", "ControllerRevision"}, {"batch", "Job"},
      {"batch", "CronJob"}, {"autoscaling", "HorizontalPodAutoscaler"},
      {"policy", "PodDisruptionBudget"}, {"networking.k8s.io", "Ingress"},
      {"networking.k8s.io", "IngressClass"}, {"networking.k8s.io", "NetworkPolicy"},
      {"discovery.k8s.io", "EndpointSlice"}, {"storage.k8s.io", "StorageClass"},
      {"storage.k8s.io", "CSINode"}, {"storage.k8s.io", "VolumeAttachment"},
      {"rbac.authorization.k8s.io", "RoleBinding"},
      {"rbac.authorization.k8s.io", "ClusterRoleBinding"}, {"scheduling.k8s.io", "PriorityClass"},
      {"coordination.k8s.io", "Lease"}, {"node.k8s.io", "RuntimeClass"},
      {"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
      {"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
      {"certificates.k8s.io", "CertificateSigningRequest"}};
  for (auto& [group, kind] : kinds) {
    INFO(group << "/" << kind);
    CHECK(HasBuiltinColumns(group, kind));
    auto t = Table(group, kind, R"({"metadata":{"name":"x"}})");
    CHECK(t["rows"][0]["cells"].Size() == t["columnDefinitions"].Size());
    // The name column is marked so kubectl can prefix it with the kind.
    bool has_name = false;
    for (auto& c : t["columnDefinitions"].GetArray()) {
      has_name |= std::string(c["format"].GetString()) == "name";
    }
    CHECK(has_name);
  }
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("Custom resource tables use additionalPrinterColumns", "[tables]") {
  const std::vector<CustomColumn> columns = {
      {"Replicas", "integer", "", "", 0, ".spec.replicas"},
      {"Phase", "string", "", "The phase.", 0, ".status.phase"},
      {"Ready", "boolean", "", "", 1, ".status.ready"},
      {"Ratio", "number", "", "", 1, ".status.ratio"},
      {"First", "string", "", "", 1, ".status.conditions[0]"},
      {"Missing", "string", "", "", 1, ".status.nothing"},
      {"Started", "date", "", "", 0, ".status.startedAt"},
      {"Bad Date", "date", "", "", 1, ".status.phase"},
      {"Wrong Type", "integer", "", "", 1, ".status.phase"},
  };
  auto obj = Parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
      "metadata":{"name":"w1","resourceVersion":"9"},
      "spec":{"replicas":3},
      "status":{"phase":"Ready","ready":true,"ratio":0.5,"startedAt":"2024-05-01T11:00:00Z",
                "conditions":[{"type":"Ready","status":"True"}]}})");
  rapidjson::Document out;
  REQUIRE(BuildCustomTable(columns, {&obj}, nullptr, Options(), out).ok());
  CHECK(ColumnNames(out) == std::vector<std::string>{"Name", "Replicas", "Phase", "Ready",
                                                     "Ratio", "First", "Missing", "Started",
                                                     "Bad Date", "Wrong Type"});
  CHECK(std::string(out["columnDefinitions"][2]["description"].GetString()) == "The phase.");
  CHECK(std::string(out["columnDefinitions"][1]["description"].GetString())
            .find(".spec.replicas") != std::string::npos);
  CHECK(out["columnDefinitions"][3]["priority"].GetInt() == 1);
  const auto& cells = out["rows"][0]["cells"];
  CHECK(Cell(out, 0) == "w1");
  CHECK(cells[1].IsInt64());
  CHECK(Cell(out, 1) == "3");
  CHECK(Cell(out, 2) == "Ready");
  CHECK(Cell(out, 3) == "true");
  CHECK(cells[4].IsDouble());
  CHECK(cells[4].GetDouble() == 0.5);
  CHECK(Cell(out, 5) == R"({"status":"True","type":"Ready"})");
  CHECK(Cell(out, 6) == "null");
  CHECK(Cell(out, 7) == "60m");
  CHECK(Cell(out, 8) == "<invalid>");
  CHECK(Cell(out, 9) == "null");
  CHECK(std::string(out["rows"][0]["object"]["kind"].GetString()) == "PartialObjectMetadata");
}

TEST_CASE("Custom resource tables: default Age column and path errors", "[tables]") {
  auto obj = Parse(R"({"metadata":{"name":"w1","creationTimestamp":"2024-05-01T11:59:00Z"}})");
  rapidjson::Document out;
  REQUIRE(BuildCustomTable(DefaultCustomColumns(), {&obj}, nullptr, Options(), out).ok());
  CHECK(ColumnNames(out) == std::vector<std::string>{"Name", "Age"});
  CHECK(Cell(out, 1) == "60s");

  rapidjson::Document untouched;
  Status s = BuildCustomTable({{"Ready", "string", "", "", 0,
                                R"(.status.conditions[?(@.type=="Ready")].status)"}},
                              {&obj}, nullptr, Options(), untouched);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message().find("Ready") != std::string::npos);
  CHECK(untouched.IsNull());
}

TEST_CASE("Custom string cells print numbers as Go does", "[tables]") {
  auto obj = Parse(R"({"metadata":{"name":"n"},
      "v":{"int":42,"small":0.00001,"half":2.5,"big":1000000.0,"mid":123456.0}})");
  auto cell = [&](const char* path) {
    rapidjson::Document out;
    REQUIRE(BuildCustomTable({{"C", "string", "", "", 0, path}}, {&obj}, nullptr, Options(), out)
                .ok());
    return Cell(out, 1);
  };
  CHECK(cell(".v.int") == "42");
  CHECK(cell(".v.half") == "2.5");
  CHECK(cell(".v.small") == "1e-05");
  CHECK(cell(".v.big") == "1e+06");
  CHECK(cell(".v.mid") == "123456");
}

}  // namespace
}  // namespace kite::tables
