// Defaults and validation of built-in kinds. Expected objects are what Kubernetes 1.32
// stores for the same input (server-set metadata such as uid and resourceVersion left out);
// expected causes are kube-apiserver's field paths and messages.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "src/server/admission/admission.h"
#include "src/server/json/json_util.h"

using kite::admission::ApplyDefaults;
using kite::admission::PrepareForUpdate;
using kite::admission::Validate;
using kite::validation::StatusCause;

namespace {

rapidjson::Document Json(const std::string& text) {
  auto parsed = kite::json::ParseJson(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

rapidjson::Document Defaulted(std::string_view group, std::string_view kind, const std::string& text) {
  rapidjson::Document d = Json(text);
  ApplyDefaults(group, "v1", kind, d, d.GetAllocator());
  return d;
}

std::vector<StatusCause> Check(std::string_view group, std::string_view kind, const std::string& text,
                               const rapidjson::Value* old = nullptr, std::string_view sub = "") {
  rapidjson::Document d = Defaulted(group, kind, text);
  return Validate(group, "v1", kind, d, old, sub);
}

std::string Dump(const std::vector<StatusCause>& causes) {
  std::string out;
  for (const StatusCause& c : causes) out += c.reason + " | " + c.field + " | " + c.message + "\n";
  return out;
}

bool Has(const std::vector<StatusCause>& causes, const std::string& field, const std::string& message) {
  return std::any_of(causes.begin(), causes.end(),
                     [&](const StatusCause& c) { return c.field == field && c.message == message; });
}

bool HasPrefix(const std::vector<StatusCause>& causes, const std::string& field, const std::string& prefix) {
  return std::any_of(causes.begin(), causes.end(), [&](const StatusCause& c) {
    return c.field == field && c.message.compare(0, prefix.size(), prefix) == 0;
  });
}

#define CHECK_CAUSE(causes, field, message)       \
  do {                                            \
    INFO(Dump(causes));                           \
    CHECK(Has(causes, field, message));           \
  } while (0)

#define CHECK_VALID(causes)  \
  do {                       \
    INFO(Dump(causes));      \
    CHECK((causes).empty()); \
  } while (0)

void CheckSameJson(const rapidjson::Value& got, const std::string& expected) {
  rapidjson::Document want = Json(expected);
  INFO("got:  " << kite::json::ToJson(got));
  INFO("want: " << kite::json::ToJson(want));
  CHECK(got == want);
}

// A pod spec fragment wrapped as a Pod.
std::string PodWith(const std::string& spec) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":)" + spec + "}";
}

const char kLabelError[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const char kWebDeployment[] = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default","labels":{"app":"web"}},
  "spec":{"selector":{"matchLabels":{"app":"web"}},
    "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx"}]}}}})";

}  // namespace

// ---------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------

TEST_CASE("kubectl create deployment gets exactly Kubernetes' defaults") {
  // The body `kubectl create deployment web --image=nginx` sends.
  rapidjson::Document d = Defaulted("apps", "Deployment", R"({"kind":"Deployment","apiVersion":"apps/v1",
    "metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"nginx","image":"nginx","resources":{}}]}},
      "strategy":{}},
    "status":{}})");
  CheckSameJson(d, R"({"kind":"Deployment","apiVersion":"apps/v1",
    "metadata":{"name":"web","creationTimestamp":null,"labels":{"app":"web"}},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"creationTimestamp":null,"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"nginx","image":"nginx","resources":{},
                               "terminationMessagePath":"/dev/termination-log",
                               "terminationMessagePolicy":"File","imagePullPolicy":"Always"}],
                "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
                "securityContext":{},"schedulerName":"default-scheduler"}},
      "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}},
      "revisionHistoryLimit":10,"progressDeadlineSeconds":600},
    "status":{}})");
  CHECK_VALID(Validate("apps", "v1", "Deployment", d, nullptr, ""));
}

TEST_CASE("kubectl run gets the Pod defaults, the priority and the initial status") {
  rapidjson::Document d = Defaulted("", "Pod", R"({"kind":"Pod","apiVersion":"v1",
    "metadata":{"name":"nginx","creationTimestamp":null,"labels":{"run":"nginx"}},
    "spec":{"containers":[{"name":"nginx","image":"nginx:1.25","resources":{}}],
            "restartPolicy":"Always","dnsPolicy":"ClusterFirst"},
    "status":{}})");
  CheckSameJson(d, R"({"kind":"Pod","apiVersion":"v1",
    "metadata":{"name":"nginx","creationTimestamp":null,"labels":{"run":"nginx"}},
    "spec":{"containers":[{"name":"nginx","image":"nginx:1.25","resources":{},
                           "terminationMessagePath":"/dev/termination-log",
                           "terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],
            "restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",
            "securityContext":{},"schedulerName":"default-scheduler","enableServiceLinks":true,
            "priority":0,"preemptionPolicy":"PreemptLowerPriority"},
    "status":{"phase":"Pending","qosClass":"BestEffort"}})");
  CHECK_VALID(Validate("", "v1", "Pod", d, nullptr, ""));
}

TEST_CASE("image pull policy follows the tag") {
  auto policy = [](const std::string& image) {
    rapidjson::Document d = Defaulted("", "Pod", PodWith(R"({"containers":[{"name":"c","image":")" + image + R"("}]})"));
    return std::string(kite::json::StringMember(d["spec"]["containers"][0], "imagePullPolicy"));
  };
  CHECK(policy("nginx") == "Always");
  CHECK(policy("nginx:latest") == "Always");
  CHECK(policy("registry.local:5000/team/app") == "Always");
  CHECK(policy("nginx:1.25") == "IfNotPresent");
  CHECK(policy("localhost:5000/app:v2") == "IfNotPresent");
  CHECK(policy("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef") == "IfNotPresent");
  CHECK(policy("NGINX") == "IfNotPresent");  // not a valid reference: no tag found
  CHECK(policy("") == "IfNotPresent");
}

TEST_CASE("container, probe, volume and env defaults") {
  rapidjson::Document d = Defaulted("", "Pod", PodWith(R"({"containers":[{"name":"c","image":"busybox:1",
      "ports":[{"containerPort":80}],
      "env":[{"name":"NODE","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],
      "livenessProbe":{"httpGet":{"port":80}},
      "resources":{"limits":{"cpu":"0.5","memory":"1024Mi"}}}],
    "volumes":[{"name":"a"},{"name":"b","configMap":{"name":"cm"}},{"name":"c","secret":{"secretName":"s"}},
               {"name":"d","hostPath":{"path":"/data"}},
               {"name":"e","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}},
               {"name":"f","emptyDir":{"sizeLimit":"1024Mi"}}]})"));
  const rapidjson::Value& c = d["spec"]["containers"][0];
  CheckSameJson(c["ports"], R"([{"containerPort":80,"protocol":"TCP"}])");
  CheckSameJson(c["env"][0]["valueFrom"], R"({"fieldRef":{"apiVersion":"v1","fieldPath":"spec.nodeName"}})");
  CheckSameJson(c["livenessProbe"], R"({"httpGet":{"port":80,"path":"/","scheme":"HTTP"},"timeoutSeconds":1,
                                        "periodSeconds":10,"successThreshold":1,"failureThreshold":3})");
  // Quantities are canonicalized; a Pod's requests default to its limits.
  CheckSameJson(c["resources"], R"({"limits":{"cpu":"500m","memory":"1Gi"},"requests":{"cpu":"500m","memory":"1Gi"}})");
  CheckSameJson(d["spec"]["volumes"], R"([{"name":"a","emptyDir":{}},
    {"name":"b","configMap":{"name":"cm","defaultMode":420}},
    {"name":"c","secret":{"secretName":"s","defaultMode":420}},
    {"name":"d","hostPath":{"path":"/data","type":""}},
    {"name":"e","projected":{"sources":[{"serviceAccountToken":{"path":"token","expirationSeconds":3600}}],"defaultMode":420}},
    {"name":"f","emptyDir":{"sizeLimit":"1Gi"}}])");
  CHECK(std::string(kite::json::StringMember(d["status"], "qosClass")) == "Guaranteed");
}

TEST_CASE("hostNetwork pods get host ports equal to their container ports") {
  rapidjson::Document d = Defaulted("", "Pod", PodWith(R"({"hostNetwork":true,"containers":[{"name":"c","image":"x",
    "ports":[{"containerPort":8080}]}]})"));
  CHECK(d["spec"]["containers"][0]["ports"][0]["hostPort"].GetInt() == 8080);
}

TEST_CASE("StatefulSet, DaemonSet and ReplicaSet defaults") {
  rapidjson::Document ss = Defaulted("apps", "StatefulSet", R"({"spec":{"serviceName":"db",
    "selector":{"matchLabels":{"app":"db"}},
    "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"db","image":"postgres:16"}]}},
    "volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],
                             "resources":{"requests":{"storage":"1Gi"}}}}]}})");
  const rapidjson::Value& s = ss["spec"];
  CHECK(s["replicas"].GetInt() == 1);
  CHECK(s["revisionHistoryLimit"].GetInt() == 10);
  CHECK(std::string(s["podManagementPolicy"].GetString()) == "OrderedReady");
  CheckSameJson(s["updateStrategy"], R"({"type":"RollingUpdate","rollingUpdate":{"partition":0}})");
  CheckSameJson(s["persistentVolumeClaimRetentionPolicy"], R"({"whenDeleted":"Retain","whenScaled":"Retain"})");
  CheckSameJson(s["volumeClaimTemplates"][0], R"({"metadata":{"name":"data","creationTimestamp":null},
    "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},
    "status":{"phase":"Pending"}})");
  CHECK_VALID(Validate("apps", "v1", "StatefulSet", ss, nullptr, ""));

  rapidjson::Document ds = Defaulted("apps", "DaemonSet", R"({"spec":{"selector":{"matchLabels":{"app":"agent"}},
    "template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"a","image":"agent:1"}]}}}})");
  CheckSameJson(ds["spec"]["updateStrategy"], R"({"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1,"maxSurge":0}})");
  CHECK(ds["spec"]["revisionHistoryLimit"].GetInt() == 10);
  CHECK_VALID(Validate("apps", "v1", "DaemonSet", ds, nullptr, ""));

  rapidjson::Document rs = Defaulted("apps", "ReplicaSet", R"({"spec":{"selector":{"matchLabels":{"a":"b"}},
    "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})");
  CHECK(rs["spec"]["replicas"].GetInt() == 1);
  CHECK_VALID(Validate("apps", "v1", "ReplicaSet", rs, nullptr, ""));
}

TEST_CASE("Job defaults and the generated selector and labels") {
  rapidjson::Document d = Defaulted("batch", "Job", R"({"apiVersion":"batch/v1","kind":"Job",
    "metadata":{"name":"pi","namespace":"default","uid":"0b1c"},
    "spec":{"template":{"spec":{"containers":[{"name":"pi","image":"perl:5.34"}],"restartPolicy":"Never"}}}})");
  const rapidjson::Value& s = d["spec"];
  CHECK(s["completions"].GetInt() == 1);
  CHECK(s["parallelism"].GetInt() == 1);
  CHECK(s["backoffLimit"].GetInt() == 6);
  CHECK(std::string(s["completionMode"].GetString()) == "NonIndexed");
  CHECK(s["suspend"].IsFalse());
  CHECK(std::string(s["podReplacementPolicy"].GetString()) == "TerminatingOrFailed");
  CheckSameJson(s["selector"], R"({"matchLabels":{"batch.kubernetes.io/controller-uid":"0b1c"}})");
  const char kLabels[] = R"({"batch.kubernetes.io/controller-uid":"0b1c","batch.kubernetes.io/job-name":"pi",
                             "controller-uid":"0b1c","job-name":"pi"})";
  CheckSameJson(s["template"]["metadata"]["labels"], kLabels);
  CheckSameJson(d["metadata"]["labels"], kLabels);
  CHECK_VALID(Validate("batch", "v1", "Job", d, nullptr, ""));

  // Idempotent: defaulting again changes nothing.
  rapidjson::Document again;
  again.CopyFrom(d, again.GetAllocator());
  ApplyDefaults("batch", "v1", "Job", again, again.GetAllocator());
  CHECK(again == d);
}

TEST_CASE("CronJob defaults leave the job template's Job defaults to the controller") {
  rapidjson::Document d = Defaulted("batch", "CronJob", R"({"metadata":{"name":"hello"},"spec":{"schedule":"*/1 * * * *",
    "jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"h","image":"busybox:1"}],"restartPolicy":"OnFailure"}}}}}})");
  const rapidjson::Value& s = d["spec"];
  CHECK(std::string(s["concurrencyPolicy"].GetString()) == "Allow");
  CHECK(s["suspend"].IsFalse());
  CHECK(s["successfulJobsHistoryLimit"].GetInt() == 3);
  CHECK(s["failedJobsHistoryLimit"].GetInt() == 1);
  CHECK(s["jobTemplate"]["metadata"]["creationTimestamp"].IsNull());
  CHECK_FALSE(s["jobTemplate"]["spec"].HasMember("backoffLimit"));
  CHECK(std::string(s["jobTemplate"]["spec"]["template"]["spec"]["schedulerName"].GetString()) == "default-scheduler");
  CHECK_VALID(Validate("batch", "v1", "CronJob", d, nullptr, ""));
}

TEST_CASE("Service defaults") {
  rapidjson::Document d = Defaulted("", "Service", R"({"metadata":{"name":"web"},
    "spec":{"selector":{"app":"web"},"ports":[{"port":80},{"name":"https","port":443,"targetPort":"https"}],
            "clusterIP":"10.43.0.10"}})");
  CheckSameJson(d["spec"], R"({"selector":{"app":"web"},
    "ports":[{"port":80,"protocol":"TCP","targetPort":80},{"name":"https","port":443,"targetPort":"https","protocol":"TCP"}],
    "clusterIP":"10.43.0.10","clusterIPs":["10.43.0.10"],"type":"ClusterIP","sessionAffinity":"None",
    "internalTrafficPolicy":"Cluster","ipFamilyPolicy":"SingleStack","ipFamilies":["IPv4"]})");

  rapidjson::Document lb = Defaulted("", "Service", R"({"spec":{"type":"LoadBalancer","ports":[{"port":80}],
    "sessionAffinity":"ClientIP"}})");
  CHECK(std::string(lb["spec"]["externalTrafficPolicy"].GetString()) == "Cluster");
  CHECK(lb["spec"]["allocateLoadBalancerNodePorts"].IsTrue());
  CHECK(lb["spec"]["sessionAffinityConfig"]["clientIP"]["timeoutSeconds"].GetInt() == 10800);

  rapidjson::Document external = Defaulted("", "Service", R"({"spec":{"type":"ExternalName","externalName":"db.example.com"}})");
  CHECK_FALSE(external["spec"].HasMember("ipFamilies"));
  CHECK_FALSE(external["spec"].HasMember("internalTrafficPolicy"));
  CHECK_VALID(Validate("", "v1", "Service", external, nullptr, ""));
}

TEST_CASE("Secret, Namespace, PVC, PriorityClass and NetworkPolicy defaults") {
  rapidjson::Document secret = Defaulted("", "Secret", R"({"metadata":{"name":"s"},"stringData":{"user":"admin"},
                                                           "data":{"user":"eA==","pass":"cHc="}})");
  CHECK(std::string(secret["type"].GetString()) == "Opaque");
  CheckSameJson(secret["data"], R"({"user":"YWRtaW4=","pass":"cHc="})");  // stringData wins, then goes
  CHECK_FALSE(secret.HasMember("stringData"));

  rapidjson::Document ns = Defaulted("", "Namespace", R"({"metadata":{"name":"team-a"}})");
  CheckSameJson(ns, R"({"metadata":{"name":"team-a","labels":{"kubernetes.io/metadata.name":"team-a"}},
                        "spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}})");

  rapidjson::Document pvc = Defaulted("", "PersistentVolumeClaim", R"({"spec":{"accessModes":["ReadWriteOnce"],
                                                                      "resources":{"requests":{"storage":"1024Mi"}}}})");
  CheckSameJson(pvc, R"({"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},
                                 "volumeMode":"Filesystem"},"status":{"phase":"Pending"}})");

  rapidjson::Document pc = Json(R"({"value":1000})");
  ApplyDefaults("scheduling.k8s.io", "v1", "PriorityClass", pc, pc.GetAllocator());
  CHECK(std::string(pc["preemptionPolicy"].GetString()) == "PreemptLowerPriority");

  rapidjson::Document np = Json(R"({"spec":{"podSelector":{},"egress":[{"ports":[{"port":53}]}]}})");
  ApplyDefaults("networking.k8s.io", "v1", "NetworkPolicy", np, np.GetAllocator());
  CheckSameJson(np["spec"]["policyTypes"], R"(["Ingress","Egress"])");
  CHECK(std::string(np["spec"]["egress"][0]["ports"][0]["protocol"].GetString()) == "TCP");
}

TEST_CASE("unknown kinds pass through") {
  rapidjson::Document d = Json(R"({"spec":{"x":1}})");
  rapidjson::Document before;
  before.CopyFrom(d, before.GetAllocator());
  ApplyDefaults("example.com", "v1", "Widget", d, d.GetAllocator());
  CHECK(d == before);
  CHECK(Validate("example.com", "v1", "Widget", d, nullptr, "").empty());
  CHECK(Validate("apps", "v2", "Deployment", d, nullptr, "").empty());
}

// ---------------------------------------------------------------------------------------
// Pod validation
// ---------------------------------------------------------------------------------------

TEST_CASE("pod validation: containers") {
  CHECK_CAUSE(Check("", "Pod", PodWith("{}")), "spec.containers", "Required value");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[]})")), "spec.containers", "Required value");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"Web_1","image":"x"}]})")),
              "spec.containers[0].name", std::string("Invalid value: \"Web_1\": ") + kLabelError);
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"image":"x"}]})")), "spec.containers[0].name", "Required value");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"web"}]})")), "spec.containers[0].image", "Required value");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"web","image":"x"},{"name":"web","image":"y"}]})")),
              "spec.containers[1].name", "Duplicate value: \"web\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"initContainers":[{"name":"web","image":"x"}],"containers":[{"name":"web","image":"y"}]})")),
              "spec.initContainers[0].name", "Duplicate value: \"web\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":" x"}]})")),
              "spec.containers[0].image", "Invalid value: \" x\": must not have leading or trailing whitespace");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x","imagePullPolicy":"Sometimes"}]})")),
              "spec.containers[0].imagePullPolicy",
              "Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x","restartPolicy":"Always"}]})")),
              "spec.containers[0].restartPolicy", "Forbidden: may not be set for non-init containers");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"initContainers":[{"name":"i","image":"x","readinessProbe":{"exec":{"command":["true"]}}}],
                                          "containers":[{"name":"a","image":"x"}]})")),
              "spec.initContainers[0].readinessProbe",
              "Forbidden: may not be set for init containers without restartPolicy=Always");
}

TEST_CASE("pod validation: ports") {
  auto port = [](const std::string& p) {
    return Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x","ports":[)" + p + "]}]}"));
  };
  CHECK_CAUSE(port(R"({"containerPort":70000})"), "spec.containers[0].ports[0].containerPort",
              "Invalid value: 70000: must be between 1 and 65535, inclusive");
  CHECK_CAUSE(port(R"({"name":"x"})"), "spec.containers[0].ports[0].containerPort", "Required value");
  auto named = port(R"({"containerPort":80,"name":"HTTP"})");
  CHECK_CAUSE(named, "spec.containers[0].ports[0].name",
              "Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  CHECK_CAUSE(named, "spec.containers[0].ports[0].name", "Invalid value: \"HTTP\": must contain at least one letter (a-z)");
  CHECK_CAUSE(port(R"({"containerPort":80,"name":"a-very-long-port-name"})"), "spec.containers[0].ports[0].name",
              "Invalid value: \"a-very-long-port-name\": must be no more than 15 characters");
  CHECK_CAUSE(port(R"({"containerPort":80,"protocol":"ICMP"})"), "spec.containers[0].ports[0].protocol",
              "Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\"");
  CHECK_CAUSE(port(R"({"containerPort":80,"name":"web"},{"containerPort":81,"name":"web"})"),
              "spec.containers[0].ports[1].name", "Duplicate value: \"web\"");
  CHECK_CAUSE(port(R"({"containerPort":80,"hostPort":80},{"containerPort":81,"hostPort":80})"),
              "spec.containers[0].ports[1].hostPort", "Duplicate value: \"TCP//80\"");
}

TEST_CASE("pod validation: volumes and mounts") {
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"volumes":[{"name":"v","emptyDir":{},"hostPath":{"path":"/x"}}],
                                          "containers":[{"name":"a","image":"x"}]})")),
              "spec.volumes[0].hostPath", "Forbidden: may not specify more than 1 volume type");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"volumes":[{"name":"data"},{"name":"data"}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.volumes[1].name", "Duplicate value: \"data\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"volumes":[{"name":"Data"}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.volumes[0].name", std::string("Invalid value: \"Data\": ") + kLabelError);
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x","volumeMounts":[{"name":"missing","mountPath":"/m"}]}]})")),
              "spec.containers[0].volumeMounts[0].name", "Not found: \"missing\"");
  auto mounts = Check("", "Pod", PodWith(R"({"volumes":[{"name":"v"}],"containers":[{"name":"a","image":"x",
      "volumeMounts":[{"name":"v","mountPath":"/m"},{"name":"v","mountPath":"/m","subPath":"../up"}]}]})"));
  CHECK_CAUSE(mounts, "spec.containers[0].volumeMounts[1].mountPath", "Invalid value: \"/m\": must be unique");
  CHECK_CAUSE(mounts, "spec.containers[0].volumeMounts.subPath", "Invalid value: \"../up\": must not contain '..'");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"volumes":[{"name":"s","secret":{"secretName":"x","defaultMode":1000}}],
                                          "containers":[{"name":"a","image":"x"}]})")),
              "spec.volumes[0].secret.defaultMode",
              "Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"volumes":[{"name":"c","configMap":{}}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.volumes[0].configMap.name", "Required value");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"volumes":[{"name":"h","hostPath":{"path":"/x","type":"Pipe"}}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.volumes[0].hostPath.type",
              "Unsupported value: \"Pipe\": supported values: \"\", \"BlockDevice\", \"CharDevice\", \"Directory\", "
              "\"DirectoryOrCreate\", \"File\", \"FileOrCreate\", \"Socket\"");
  // A volume with an invalid source is not registered, so mounts of it are not found too.
  auto bad_source = Check("", "Pod", PodWith(R"({"volumes":[{"name":"p","persistentVolumeClaim":{}}],
      "containers":[{"name":"a","image":"x","volumeMounts":[{"name":"p","mountPath":"/p"}]}]})"));
  CHECK_CAUSE(bad_source, "spec.volumes[0].persistentVolumeClaim.claimName", "Required value");
  CHECK_CAUSE(bad_source, "spec.containers[0].volumeMounts[0].name", "Not found: \"p\"");
}

TEST_CASE("pod validation: spec-level fields") {
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"restartPolicy":"Sometimes","containers":[{"name":"a","image":"x"}]})")),
              "spec.restartPolicy", "Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"dnsPolicy":"Cluster","containers":[{"name":"a","image":"x"}]})")),
              "spec.dnsPolicy",
              "Unsupported value: \"Cluster\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"dnsPolicy":"None","containers":[{"name":"a","image":"x"}]})")),
              "spec.dnsConfig", "Required value: must provide `dnsConfig` when `dnsPolicy` is None");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"activeDeadlineSeconds":0,"containers":[{"name":"a","image":"x"}]})")),
              "spec.activeDeadlineSeconds", "Invalid value: 0: must be between 1 and 2147483647, inclusive");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"nodeSelector":{"disk":"ssd!"},"containers":[{"name":"a","image":"x"}]})")),
              "spec.nodeSelector",
              "Invalid value: \"ssd!\": a valid label must be an empty string or consist of alphanumeric characters, "
              "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
              "'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"tolerations":[{"operator":"Equal","value":"x"}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.tolerations[0].operator",
              "Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"tolerations":[{"key":"k","effect":"NoSchedule","tolerationSeconds":5}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.tolerations[0].effect", "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"hostNetwork":true,"containers":[{"name":"a","image":"x","ports":[{"containerPort":80,"hostPort":81}]}]})")),
              "spec.containers[0].ports[0].hostPort", "Invalid value: 81: must match `containerPort` when `hostNetwork` is true");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"ephemeralContainers":[{"name":"dbg","image":"x"}],"containers":[{"name":"a","image":"x"}]})")),
              "spec.ephemeralContainers", "Forbidden: cannot be set on create");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"securityContext":{"runAsUser":-1},"containers":[{"name":"a","image":"x"}]})")),
              "spec.securityContext.runAsUser", "Invalid value: -1: must be between 0 and 2147483647, inclusive");
  // Without defaults, Kubernetes' required fields are reported.
  rapidjson::Document raw = Json(PodWith(R"({"containers":[{"name":"a","image":"x"}]})"));
  auto causes = Validate("", "v1", "Pod", raw, nullptr, "");
  CHECK_CAUSE(causes, "spec.terminationGracePeriodSeconds", "Required value");
  CHECK_CAUSE(causes, "spec.restartPolicy", "Required value");
  CHECK_CAUSE(causes, "spec.containers[0].imagePullPolicy", "Required value");
  CHECK_CAUSE(causes, "spec.containers[0].terminationMessagePolicy", "Required value");
}

TEST_CASE("pod validation: resources") {
  auto resources = [](const std::string& r) {
    return Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x","resources":)" + r + "}]}"));
  };
  CHECK_CAUSE(resources(R"({"requests":{"cpu":"2"},"limits":{"cpu":"1"}})"), "spec.containers[0].resources.requests",
              "Invalid value: \"2\": must be less than or equal to cpu limit of 1");
  CHECK_CAUSE(resources(R"({"limits":{"cpu":"1.2.3"}})"), "spec.containers[0].resources.limits[cpu]",
              "Invalid value: \"1.2.3\": quantities must match the regular expression "
              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  CHECK_CAUSE(resources(R"({"requests":{"memory":"-1Gi"}})"), "spec.containers[0].resources.requests[memory]",
              "Invalid value: \"-1Gi\": must be greater than or equal to 0");
  auto unknown = resources(R"({"requests":{"gpu":"1"}})");
  CHECK_CAUSE(unknown, "spec.containers[0].resources.requests[gpu]",
              "Invalid value: \"gpu\": must be a standard resource type or fully qualified");
  CHECK_CAUSE(unknown, "spec.containers[0].resources.requests[gpu]",
              "Invalid value: \"gpu\": must be a standard resource for containers");
  CHECK_CAUSE(resources(R"({"requests":{"example.com/gpu":"1"}})"), "spec.containers[0].resources.limits",
              "Required value: Limit must be set for non overcommitable resources");
  CHECK_CAUSE(resources(R"({"limits":{"example.com/gpu":"1500m"}})"), "spec.containers[0].resources.limits[example.com/gpu]",
              "Invalid value: \"1500m\": must be an integer");
  CHECK_VALID(resources(R"({"requests":{"cpu":"100m","memory":"64Mi"},"limits":{"cpu":"1","memory":"128Mi"}})"));
}

TEST_CASE("pod validation: env, probes and lifecycle") {
  auto container = [](const std::string& fields) {
    return Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x",)" + fields + "}]}"));
  };
  CHECK_CAUSE(container(R"("env":[{"name":"A=B"}])"), "spec.containers[0].env[0].name",
              "Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='");
  CHECK_CAUSE(container(R"("env":[{"value":"v"}])"), "spec.containers[0].env[0].name", "Required value");
  CHECK_CAUSE(container(R"("env":[{"name":"A","valueFrom":{}}])"), "spec.containers[0].env[0].valueFrom",
              "Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`");
  CHECK_CAUSE(container(R"("env":[{"name":"A","valueFrom":{"fieldRef":{"fieldPath":"spec.foo"}}}])"),
              "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath",
              "Invalid value: \"spec.foo\": error converting fieldPath: field label not supported: spec.foo");
  CHECK_CAUSE(container(R"("env":[{"name":"A","valueFrom":{"secretKeyRef":{"name":"s"}}}])"),
              "spec.containers[0].env[0].valueFrom.secretKeyRef.key", "Required value");
  CHECK_CAUSE(container(R"("envFrom":[{}])"), "spec.containers[0].envFrom",
              "Invalid value: \"\": must specify one of: `configMapRef` or `secretRef`");
  CHECK_CAUSE(container(R"("livenessProbe":{"exec":{"command":["true"]},"tcpSocket":{"port":80}})"),
              "spec.containers[0].livenessProbe.tcpSocket", "Forbidden: may not specify more than 1 handler type");
  CHECK_CAUSE(container(R"("readinessProbe":{})"), "spec.containers[0].readinessProbe",
              "Required value: must specify a handler type");
  CHECK_CAUSE(container(R"("livenessProbe":{"tcpSocket":{"port":80},"successThreshold":2})"),
              "spec.containers[0].livenessProbe.successThreshold", "Invalid value: 2: must be 1");
  CHECK_CAUSE(container(R"("readinessProbe":{"httpGet":{"port":0}})"), "spec.containers[0].readinessProbe.httpGet.port",
              "Invalid value: 0: must be between 1 and 65535, inclusive");
  CHECK_CAUSE(container(R"("livenessProbe":{"exec":{"command":["true"]},"periodSeconds":-1})"),
              "spec.containers[0].livenessProbe.periodSeconds", "Invalid value: -1: must be greater than or equal to 0");
  CHECK_CAUSE(container(R"("lifecycle":{"preStop":{"sleep":{"seconds":60}}})"), "spec.containers[0].lifecycle.preStop.sleep",
              "Invalid value: 60: must be greater than 0 and less than terminationGracePeriodSeconds (30). "
              "Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.");
}

TEST_CASE("pod updates may change only the mutable fields") {
  rapidjson::Document old = Defaulted("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"nginx:1"}],
                                                             "tolerations":[{"key":"k","operator":"Exists"}]})"));
  auto update = [&](const std::string& spec) { return Check("", "Pod", PodWith(spec), &old); };
  CHECK_VALID(update(R"({"containers":[{"name":"a","image":"nginx:2"}],"tolerations":[{"key":"k","operator":"Exists"}]})"));
  CHECK_VALID(update(R"({"containers":[{"name":"a","image":"nginx:1"}],"activeDeadlineSeconds":100,
                         "tolerations":[{"key":"k","operator":"Exists"},{"key":"j","operator":"Exists"}]})"));
  auto changed = update(R"({"containers":[{"name":"a","image":"nginx:1"}],"restartPolicy":"Never",
                            "tolerations":[{"key":"k","operator":"Exists"}]})");
  INFO(Dump(changed));
  CHECK(HasPrefix(changed, "spec",
                  "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
                  "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
                  "set to 1 if it was previously negative)\n"));
  CHECK_CAUSE(update(R"({"containers":[{"name":"a","image":"nginx:1"},{"name":"b","image":"x"}]})"),
              "spec.containers", "Forbidden: pod updates may not add or remove containers");
  CHECK_CAUSE(update(R"({"containers":[{"name":"a","image":"nginx:1"}]})"), "spec.tolerations",
              "Forbidden: existing toleration can not be modified except its tolerationSeconds");
}

TEST_CASE("pod status writes validate status only") {
  rapidjson::Document old = Defaulted("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x"}]})"));
  rapidjson::Document pod;
  pod.CopyFrom(old, pod.GetAllocator());
  pod["status"].AddMember("podIPs", rapidjson::Value(Json(R"([{"ip":"10.42.0.7"},{"ip":"not-an-ip"}])"), pod.GetAllocator()),
                          pod.GetAllocator());
  pod["spec"]["containers"][0].RemoveMember("image");  // spec problems are not reported on status writes
  auto causes = Validate("", "v1", "Pod", pod, &old, "status");
  CHECK_CAUSE(causes, "status.podIPs[1]",
              "Invalid value: \"not-an-ip\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  CHECK(causes.size() == 1);
}

// ---------------------------------------------------------------------------------------
// apps/v1
// ---------------------------------------------------------------------------------------

TEST_CASE("deployment validation") {
  auto deployment = [](const std::string& spec) {
    return Check("apps", "Deployment", R"({"metadata":{"name":"web"},"spec":)" + spec + "}");
  };
  const std::string tmpl = R"("template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"a","image":"x"}]}})";
  auto no_selector = deployment("{" + tmpl + "}");
  CHECK_CAUSE(no_selector, "spec.selector", "Required value");
  CHECK_CAUSE(no_selector, "spec.template.metadata.labels",
              "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`");
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"api"}},)" + tmpl + "}"), "spec.template.metadata.labels",
              "Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`");
  CHECK_CAUSE(deployment(R"({"selector":{},)" + tmpl + "}"), "spec.selector",
              "Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment");
  CHECK_CAUSE(deployment(R"({"replicas":-1,"selector":{"matchLabels":{"app":"web"}},)" + tmpl + "}"), "spec.replicas",
              "Invalid value: -1: must be greater than or equal to 0");
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
                             "spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"x"}]}}})"),
              "spec.template.spec.restartPolicy", "Unsupported value: \"Never\": supported values: \"Always\"");
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"web"}},"strategy":{"rollingUpdate":{"maxSurge":0,"maxUnavailable":0}},)" + tmpl + "}"),
              "spec.strategy.rollingUpdate.maxUnavailable",
              "Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}: may not be 0 when `maxSurge` is 0");
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"web"}},"strategy":{"rollingUpdate":{"maxSurge":"x%"}},)" + tmpl + "}"),
              "spec.strategy.rollingUpdate.maxSurge",
              "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"x%\"}: a valid percent string must be a "
              "numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"web"}},"strategy":{"type":"Recreate","rollingUpdate":{}},)" + tmpl + "}"),
              "spec.strategy.rollingUpdate", "Forbidden: may not be specified when strategy `type` is 'Recreate'");
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"web"}},"minReadySeconds":900,)" + tmpl + "}"),
              "spec.progressDeadlineSeconds", "Invalid value: 600: must be greater than minReadySeconds");
  CHECK_CAUSE(deployment(R"({"selector":{"matchExpressions":[{"key":"app","operator":"In"}]},)" + tmpl + "}"),
              "spec.selector.matchExpressions[0].values", "Required value: must be specified when `operator` is 'In' or 'NotIn'");
  // Pod template problems are reported under spec.template.
  CHECK_CAUSE(deployment(R"({"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
                             "spec":{"containers":[{"name":"a"}]}}})"),
              "spec.template.spec.containers[0].image", "Required value");
}

TEST_CASE("workload selectors are immutable") {
  rapidjson::Document old = Defaulted("apps", "Deployment", kWebDeployment);
  rapidjson::Document d = Json(kWebDeployment);
  d["spec"]["selector"]["matchLabels"]["app"].SetString("web2");
  d["spec"]["template"]["metadata"]["labels"]["app"].SetString("web2");
  ApplyDefaults("apps", "v1", "Deployment", d, d.GetAllocator());
  auto causes = Validate("apps", "v1", "Deployment", d, &old, "");
  CHECK_CAUSE(causes, "spec.selector",
              "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, "
              "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
  CHECK(causes.size() == 1);
  CHECK_VALID(Check("apps", "Deployment", kWebDeployment, &old));
}

TEST_CASE("statefulset and daemonset validation") {
  const std::string tmpl = R"("template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"a","image":"x"}]}})";
  const std::string base = R"({"metadata":{"name":"db"},"spec":{"serviceName":"db","selector":{"matchLabels":{"app":"db"}},)" + tmpl;
  rapidjson::Document old = Defaulted("apps", "StatefulSet", base + "}}");
  CHECK_CAUSE(Check("apps", "StatefulSet", R"({"metadata":{"name":"db"},"spec":{"serviceName":"other","selector":{"matchLabels":{"app":"db"}},)" + tmpl + "}}", &old),
              "spec",
              "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
              "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
  CHECK_VALID(Check("apps", "StatefulSet", base + R"(,"replicas":3}})", &old));
  CHECK_CAUSE(Check("apps", "StatefulSet", base + R"(,"podManagementPolicy":"Random"}})"),
              "spec.podManagementPolicy", "Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'");
  CHECK_CAUSE(Check("apps", "StatefulSet", base + R"(,"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Keep"}}})"),
              "spec.persistentVolumeClaimRetentionPolicy.whenDeleted",
              "Unsupported value: \"Keep\": supported values: \"Retain\", \"Delete\"");

  const std::string ds = R"({"metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"db"}},)" + tmpl;
  CHECK_CAUSE(Check("apps", "DaemonSet", ds + R"(,"updateStrategy":{"rollingUpdate":{"maxSurge":1}}}})"),
              "spec.updateStrategy.rollingUpdate.maxSurge",
              "Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not be set when maxUnavailable is non-zero");
  CHECK_CAUSE(Check("apps", "DaemonSet", ds + R"(,"updateStrategy":{"rollingUpdate":{"maxUnavailable":0}}}})"),
              "spec.updateStrategy.rollingUpdate.maxUnavailable", "Required value: cannot be 0 when maxSurge is 0");
  CHECK_CAUSE(Check("apps", "DaemonSet", R"({"metadata":{"name":"agent"},"spec":{)" + tmpl + "}}"),
              "spec.template.metadata.labels",
              "Invalid value: map[string]string{\"app\":\"db\"}: `selector` does not match template `labels`");
}

TEST_CASE("apps status writes") {
  rapidjson::Document old = Defaulted("apps", "Deployment", kWebDeployment);
  rapidjson::Document d;
  d.CopyFrom(old, d.GetAllocator());
  kite::json::SetMember(d, "status", rapidjson::Value(Json(R"({"replicas":1,"readyReplicas":2,"availableReplicas":-1})"), d.GetAllocator()),
                        d.GetAllocator());
  auto causes = Validate("apps", "v1", "Deployment", d, &old, "status");
  CHECK_CAUSE(causes, "status.readyReplicas", "Invalid value: 2: cannot be greater than status.replicas");
  CHECK_CAUSE(causes, "status.availableReplicas", "Invalid value: -1: must be greater than or equal to 0");
}

// ---------------------------------------------------------------------------------------
// batch/v1
// ---------------------------------------------------------------------------------------

namespace {
const char kJob[] = R"({"metadata":{"name":"pi","uid":"u1"},"spec":{"template":{"spec":{"restartPolicy":"Never",
  "containers":[{"name":"pi","image":"perl"}]}}}})";
}

TEST_CASE("job validation") {
  CHECK_VALID(Check("batch", "Job", kJob));
  CHECK_CAUSE(Check("batch", "Job", R"({"metadata":{"name":"pi","uid":"u1"},"spec":{"template":{"spec":{"containers":[{"name":"pi","image":"perl"}]}}}})"),
              "spec.template.spec.restartPolicy", "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
  CHECK_CAUSE(Check("batch", "Job", R"({"metadata":{"name":"pi","uid":"u1"},"spec":{"backoffLimit":-1,"template":{"spec":{"restartPolicy":"Never",
                  "containers":[{"name":"pi","image":"perl"}]}}}})"),
              "spec.backoffLimit", "Invalid value: -1: must be greater than or equal to 0");
  CHECK_CAUSE(Check("batch", "Job", R"({"metadata":{"name":"pi","uid":"u1"},"spec":{"completionMode":"Indexed","parallelism":2,
                  "template":{"spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl"}]}}}})"),
              "spec.completions", "Required value: when completion mode is Indexed");
  // A manual selector that does not select the template.
  auto manual = Check("batch", "Job", R"({"metadata":{"name":"pi","uid":"u1"},"spec":{"manualSelector":true,
      "selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"y"}},
      "spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl"}]}}}})");
  CHECK_CAUSE(manual, "spec.template.metadata.labels",
              "Invalid value: map[string]string{\"app\":\"y\"}: `selector` does not match template `labels`");
  // Generated labels that were tampered with.
  auto tampered = Check("batch", "Job", R"({"metadata":{"name":"pi","uid":"u1"},"spec":{"template":{"metadata":{"labels":
      {"batch.kubernetes.io/controller-uid":"other"}},"spec":{"restartPolicy":"Never","containers":[{"name":"pi","image":"perl"}]}}}})");
  CHECK(HasPrefix(tampered, "spec.template.metadata.labels[batch.kubernetes.io/controller-uid]", "Invalid value: map[string]string{"));
}

TEST_CASE("job template, selector and completions are immutable") {
  rapidjson::Document old = Defaulted("batch", "Job", kJob);
  std::string changed_image = kJob;
  changed_image.replace(changed_image.find("\"perl\""), 6, "\"perl:5\"");
  rapidjson::Document d = Json(changed_image);
  PrepareForUpdate("batch", "v1", "Job", d, old, d.GetAllocator());
  ApplyDefaults("batch", "v1", "Job", d, d.GetAllocator());
  auto causes = Validate("batch", "v1", "Job", d, &old, "");
  CHECK_CAUSE(causes, "spec.template", "Invalid value: core.PodTemplateSpec{...}: field is immutable");
  CHECK(causes.size() == 1);
  // Resubmitting the same object (selector and labels carried over) is fine.
  rapidjson::Document same = Json(kJob);
  PrepareForUpdate("batch", "v1", "Job", same, old, same.GetAllocator());
  ApplyDefaults("batch", "v1", "Job", same, same.GetAllocator());
  CHECK_VALID(Validate("batch", "v1", "Job", same, &old, ""));
  rapidjson::Document more;
  more.CopyFrom(old, more.GetAllocator());
  more["spec"]["completions"].SetInt(3);
  CHECK_CAUSE(Validate("batch", "v1", "Job", more, &old, ""), "spec.completions", "Invalid value: 3: field is immutable");
}

TEST_CASE("cronjob validation") {
  auto cron = [](const std::string& fields) {
    return Check("batch", "CronJob", R"({"metadata":{"name":"c"},"spec":{)" + fields +
                                         R"(,"jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure",
                                         "containers":[{"name":"a","image":"x"}]}}}}}})");
  };
  CHECK_VALID(cron(R"("schedule":"@hourly","timeZone":"Etc/UTC")"));
  CHECK_CAUSE(cron(R"("schedule":"foo")"), "spec.schedule", "Invalid value: \"foo\": expected exactly 5 fields, found 1: [foo]");
  CHECK_CAUSE(cron(R"("schedule":"")"), "spec.schedule", "Required value");
  CHECK_CAUSE(cron(R"("schedule":"TZ=UTC 0 * * * *")"), "spec.schedule",
              "Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
  CHECK_CAUSE(cron(R"("schedule":"@daily","timeZone":"Mars/Olympus")"), "spec.timeZone",
              "Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus");
  CHECK_CAUSE(cron(R"("schedule":"@daily","concurrencyPolicy":"Sometimes")"), "spec.concurrencyPolicy",
              "Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\"");
  CHECK_CAUSE(Check("batch", "CronJob", R"({"metadata":{"name":"c"},"spec":{"schedule":"@daily","jobTemplate":{"spec":{
                  "template":{"spec":{"containers":[{"name":"a","image":"x"}]}}}}}})"),
              "spec.jobTemplate.spec.template.spec.restartPolicy",
              "Unsupported value: \"Always\": supported values: \"OnFailure\", \"Never\"");
  CHECK_CAUSE(Check("batch", "CronJob", std::string(R"({"metadata":{"name":")") + std::string(53, 'a') +
                        R"("},"spec":{"schedule":"@daily","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never",
                        "containers":[{"name":"a","image":"x"}]}}}}}})"),
              "metadata.name", "Invalid value: \"" + std::string(53, 'a') + "\": must be no more than 52 characters");
}

// ---------------------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------------------

TEST_CASE("service validation") {
  auto service = [](const std::string& spec) { return Check("", "Service", R"({"metadata":{"name":"web"},"spec":)" + spec + "}"); };
  CHECK_CAUSE(service(R"({"selector":{"app":"web"}})"), "spec.ports", "Required value");
  CHECK_VALID(service(R"({"clusterIP":"None","selector":{"app":"web"}})"));  // headless needs no ports
  auto two = service(R"({"ports":[{"port":80},{"port":443}]})");
  CHECK_CAUSE(two, "spec.ports[0].name", "Required value");
  CHECK_CAUSE(two, "spec.ports[1].name", "Required value");
  CHECK_CAUSE(service(R"({"ports":[{"port":0,"targetPort":80}]})"), "spec.ports[0].port",
              "Invalid value: 0: must be between 1 and 65535, inclusive");
  CHECK_CAUSE(service(R"({"type":"Foo","ports":[{"port":80}]})"), "spec.type",
              "Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"");
  CHECK_CAUSE(service(R"({"ports":[{"name":"a","port":80},{"name":"b","port":80}]})"), "spec.ports[1]",
              "Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, "
              "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}");
  CHECK_CAUSE(service(R"({"ports":[{"port":80,"nodePort":30080}]})"), "spec.ports[0].nodePort",
              "Forbidden: may not be used when `type` is 'ClusterIP'");
  CHECK_CAUSE(service(R"({"type":"ExternalName"})"), "spec.externalName", "Required value");
  CHECK_CAUSE(service(R"({"type":"NodePort","clusterIP":"None","ports":[{"port":80}]})"), "spec.clusterIPs[0]",
              "Invalid value: \"None\": may not be set to 'None' for NodePort services");
  CHECK_CAUSE(service(R"({"ports":[{"port":80}],"clusterIP":"10.43.0.300"})"), "spec.clusterIPs[0]",
              "Invalid value: \"10.43.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
  CHECK_CAUSE(service(R"({"ports":[{"port":80}],"sessionAffinity":"Sticky"})"), "spec.sessionAffinity",
              "Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\"");
  CHECK_CAUSE(service(R"({"ports":[{"port":80}],"externalTrafficPolicy":"Local"})"), "spec.externalTrafficPolicy",
              "Invalid value: \"Local\": may only be set for externally-accessible services");
}

TEST_CASE("service clusterIP is immutable once set, and kept when omitted") {
  rapidjson::Document old = Defaulted("", "Service", R"({"metadata":{"name":"web"},"spec":{"clusterIP":"10.43.0.10","ports":[{"port":80}]}})");
  auto moved = Check("", "Service", R"({"metadata":{"name":"web"},"spec":{"clusterIP":"10.43.0.11","ports":[{"port":80}]}})", &old);
  CHECK_CAUSE(moved, "spec.clusterIPs[0]", "Invalid value: []string{\"10.43.0.11\"}: may not change once set");
  rapidjson::Document omitted = Json(R"({"metadata":{"name":"web"},"spec":{"ports":[{"port":80}]}})");
  PrepareForUpdate("", "v1", "Service", omitted, old, omitted.GetAllocator());
  ApplyDefaults("", "v1", "Service", omitted, omitted.GetAllocator());
  CHECK(std::string(omitted["spec"]["clusterIP"].GetString()) == "10.43.0.10");
  CHECK_VALID(Validate("", "v1", "Service", omitted, &old, ""));
}

// ---------------------------------------------------------------------------------------
// ConfigMaps, Secrets, Namespaces, PVCs, Nodes and the smaller kinds
// ---------------------------------------------------------------------------------------

TEST_CASE("configmap keys, size and immutability") {
  CHECK_CAUSE(Check("", "ConfigMap", R"({"data":{"a b":"x"}})"), "data[a b]",
              "Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
              "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
  CHECK_CAUSE(Check("", "ConfigMap", R"({"data":{"..":"x"}})"), "data[..]", "Invalid value: \"..\": must not be '..'");
  CHECK_CAUSE(Check("", "ConfigMap", R"({"data":{"k":"x"},"binaryData":{"k":"eA=="}})"), "data[k]",
              "Invalid value: \"k\": duplicate of key present in binaryData");
  std::string big = R"({"data":{"a":")" + std::string(600 * 1024, 'x') + R"(","b":")" + std::string(600 * 1024, 'y') + R"("}})";
  CHECK_CAUSE(Check("", "ConfigMap", big), "", "Too long: may not be more than 1048576 bytes");
  rapidjson::Document old = Defaulted("", "ConfigMap", R"({"immutable":true,"data":{"k":"v"}})");
  auto changed = Check("", "ConfigMap", R"({"data":{"k":"w"}})", &old);
  CHECK_CAUSE(changed, "immutable", "Forbidden: field is immutable when `immutable` is set");
  CHECK_CAUSE(changed, "data", "Forbidden: field is immutable when `immutable` is set");
  CHECK_VALID(Check("", "ConfigMap", R"({"immutable":true,"data":{"k":"v"}})", &old));
}

TEST_CASE("secret types and data") {
  auto tls = Check("", "Secret", R"({"type":"kubernetes.io/tls","data":{}})");
  CHECK_CAUSE(tls, "data[tls.crt]", "Required value");
  CHECK_CAUSE(tls, "data[tls.key]", "Required value");
  CHECK_CAUSE(Check("", "Secret", R"({"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"eHl6"}})"),
              "data[.dockerconfigjson]", "Invalid value: \"<secret contents redacted>\": invalid character 'x' looking for beginning of value");
  CHECK_VALID(Check("", "Secret", R"({"type":"kubernetes.io/dockerconfigjson","data":{".dockerconfigjson":"eyJhdXRocyI6e319"}})"));
  CHECK_CAUSE(Check("", "Secret", R"({"type":"kubernetes.io/service-account-token"})"),
              "metadata.annotations[kubernetes.io/service-account.name]", "Required value");
  auto basic = Check("", "Secret", R"({"type":"kubernetes.io/basic-auth"})");
  CHECK_CAUSE(basic, "data[username]", "Required value");
  CHECK_CAUSE(Check("", "Secret", R"({"data":{"k":"not base64!"}})"), "data[k]",
              "Invalid value: \"<secret contents redacted>\": illegal base64 data at input byte 3");
  rapidjson::Document old = Defaulted("", "Secret", R"({"data":{"k":"dg=="}})");
  CHECK_CAUSE(Check("", "Secret", R"({"type":"kubernetes.io/tls","data":{"tls.crt":"","tls.key":""}})", &old), "type",
              "Invalid value: \"kubernetes.io/tls\": field is immutable");
}

TEST_CASE("namespace, pvc, node and endpoints validation") {
  CHECK_CAUSE(Check("", "Namespace", R"({"metadata":{"name":"a"},"spec":{"finalizers":["custom"]}})"), "spec.finalizers",
              "Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified");
  auto pvc = Check("", "PersistentVolumeClaim", R"({"spec":{}})");
  CHECK_CAUSE(pvc, "spec.accessModes", "Required value: at least 1 access mode is required");
  CHECK_CAUSE(pvc, "spec.resources[storage]", "Required value");
  CHECK_CAUSE(Check("", "PersistentVolumeClaim", R"({"spec":{"accessModes":["ReadWriteSometimes"],"resources":{"requests":{"storage":"1Gi"}}}})"),
              "spec.accessModes",
              "Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", "
              "\"ReadWriteOnce\", \"ReadWriteOncePod\"");
  CHECK_CAUSE(Check("", "PersistentVolumeClaim", R"({"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"0"}}}})"),
              "spec.resources[storage]", "Invalid value: \"0\": must be greater than zero");
  // Bound claims may grow, not shrink; other spec changes are forbidden.
  rapidjson::Document old = Defaulted("", "PersistentVolumeClaim",
      R"({"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"2Gi"}},"volumeName":"pv1"},"status":{"phase":"Bound"}})");
  const std::string grow = R"({"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"5Gi"}},"volumeName":"pv1"},"status":{"phase":"Bound"}})";
  CHECK_VALID(Check("", "PersistentVolumeClaim", grow, &old));
  CHECK_CAUSE(Check("", "PersistentVolumeClaim",
                    R"({"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeName":"pv1"},"status":{"phase":"Bound"}})", &old),
              "spec.resources.requests.storage", "Forbidden: field can not be less than previous value");
  auto modes = Check("", "PersistentVolumeClaim",
                     R"({"spec":{"accessModes":["ReadWriteMany"],"resources":{"requests":{"storage":"2Gi"}},"volumeName":"pv1"},"status":{"phase":"Bound"}})", &old);
  CHECK(HasPrefix(modes, "spec", "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"));

  auto node = Check("", "Node", R"({"spec":{"taints":[{"key":"k","effect":"NoSchedule"},{"key":"k","effect":"NoSchedule"},{"key":"j"}]}})");
  CHECK_CAUSE(node, "metadata.taints[1]",
              "Duplicate value: core.Taint{Key:\"k\", Value:\"\", Effect:\"NoSchedule\", TimeAdded:(*v1.Time)(nil)}: "
              "taints must be unique by key and effect pair");
  CHECK_CAUSE(node, "metadata.taints[2].effect", "Required value");
  rapidjson::Document old_node = Json(R"({"spec":{"podCIDRs":["10.42.0.0/24"]}})");
  CHECK_CAUSE(Check("", "Node", R"({"spec":{"podCIDRs":["10.42.1.0/24"]}})", &old_node), "spec.podCIDRs",
              "Forbidden: node updates may not change podCIDR except from \"\" to valid");

  CHECK_CAUSE(Check("", "Endpoints", R"({"subsets":[{"ports":[{"port":80}]}]})"), "subsets[0]",
              "Required value: must specify `addresses` or `notReadyAddresses`");
}

TEST_CASE("ingress, pdb, priorityclass and lease validation") {
  auto ingress = [](const std::string& spec) { return Check("networking.k8s.io", "Ingress", R"({"spec":)" + spec + "}"); };
  const std::string backend = R"("backend":{"service":{"name":"web","port":{"number":80}}})";
  CHECK_CAUSE(ingress(R"({"rules":[{"http":{"paths":[{"path":"/",)" + backend + "}]}}]}"),
              "spec.rules[0].http.paths[0].pathType", "Required value: pathType must be specified");
  CHECK_VALID(ingress(R"({"rules":[{"host":"web.example.com","http":{"paths":[{"path":"/","pathType":"Prefix",)" + backend + "}]}}]}"));
  CHECK_CAUSE(ingress(R"({"rules":[{"http":{"paths":[{"path":"api","pathType":"Prefix",)" + backend + "}]}}]}"),
              "spec.rules[0].http.paths[0].path", "Invalid value: \"api\": must be an absolute path");
  CHECK_CAUSE(ingress("{}"), "spec",
              "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified");
  CHECK_CAUSE(ingress(R"({"rules":[{"host":"10.0.0.1","http":{"paths":[{"path":"/","pathType":"Exact",)" + backend + "}]}}]}"),
              "spec.rules[0].host", "Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address");
  CHECK_CAUSE(ingress(R"({"defaultBackend":{"service":{"name":"web","port":{}}}})"), "spec.defaultBackend",
              "Required value: port name or number is required");

  auto pdb = Check("policy", "PodDisruptionBudget", R"({"spec":{"minAvailable":1,"maxUnavailable":"150%"}})");
  CHECK(HasPrefix(pdb, "spec", "Invalid value: policy.PodDisruptionBudgetSpec"));
  CHECK_CAUSE(pdb, "spec.maxUnavailable",
              "Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must not be greater than 100%");

  rapidjson::Document pc = Json(R"({"metadata":{"name":"high"},"value":2000000000})");
  CHECK_CAUSE(Validate("scheduling.k8s.io", "v1", "PriorityClass", pc, nullptr, ""), "value",
              "Forbidden: maximum allowed value of a user defined priority is 1000000000");
  rapidjson::Document sys = Json(R"({"metadata":{"name":"system-foo"},"value":1})");
  CHECK_CAUSE(Validate("scheduling.k8s.io", "v1", "PriorityClass", sys, nullptr, ""), "metadata.name",
              "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: "
              "system-foo is not a known system priority class");
  rapidjson::Document old_pc = Json(R"({"metadata":{"name":"high"},"value":1000})");
  rapidjson::Document new_pc = Json(R"({"metadata":{"name":"high"},"value":1001})");
  CHECK_CAUSE(Validate("scheduling.k8s.io", "v1", "PriorityClass", new_pc, &old_pc, ""), "value",
              "Forbidden: may not be changed in an update.");

  rapidjson::Document lease = Json(R"({"spec":{"leaseDurationSeconds":0,"leaseTransitions":-1}})");
  auto lc = Validate("coordination.k8s.io", "v1", "Lease", lease, nullptr, "");
  CHECK_CAUSE(lc, "spec.leaseDurationSeconds", "Invalid value: 0: must be greater than 0");
  CHECK_CAUSE(lc, "spec.leaseTransitions", "Invalid value: -1: must be greater than or equal to 0");
}

TEST_CASE("wrong types are reported, not crashed on") {
  CHECK_CAUSE(Check("apps", "Deployment", R"({"spec":{"replicas":"three"}})"), "spec.replicas",
              "Invalid value: \"string\": must be of type int32");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":"nginx"})")), "spec.containers",
              "Invalid value: \"string\": must be of type array");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":5}]})")), "spec.containers[0].image",
              "Invalid value: \"integer\": must be of type string");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[{"name":"a","image":"x","ports":[{"containerPort":1.5}]}]})")),
              "spec.containers[0].ports[0].containerPort", "Invalid value: \"number\": must be of type int32");
  CHECK_CAUSE(Check("", "Pod", PodWith(R"({"containers":[7]})")), "spec.containers[0]",
              "Invalid value: \"integer\": must be of type object");
  auto top = Validate("", "v1", "Pod", Json("[1,2]"), nullptr, "");
  CHECK_CAUSE(top, "", "Invalid value: \"array\": must be of type object");
}
