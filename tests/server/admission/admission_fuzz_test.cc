// Adversarial input: objects of every covered kind with fields replaced by values of the
// wrong type or shape, and huge lists and maps. Defaulting and validation must never crash,
// and must stay fast enough for a request path.
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include "src/server/admission/admission.h"
#include "src/server/json/json_util.h"

using kite::admission::ApplyDefaults;
using kite::admission::PrepareForUpdate;
using kite::admission::Validate;

namespace {

struct Sample {
  const char* group;
  const char* kind;
  const char* json;
};

// One valid object per kind; the fuzzer mutates copies of them.
const Sample kSamples[] = {
    {"", "Pod", R"({"metadata":{"name":"p"},"spec":{"volumes":[{"name":"v","configMap":{"name":"c","items":[{"key":"k","path":"p"}]}},
      {"name":"w","projected":{"sources":[{"downwardAPI":{"items":[{"path":"l","fieldRef":{"fieldPath":"metadata.labels"}}]}}]}}],
      "initContainers":[{"name":"i","image":"x","restartPolicy":"Always","startupProbe":{"grpc":{"port":9000}}}],
      "containers":[{"name":"a","image":"nginx","ports":[{"containerPort":80,"name":"http","hostPort":8080}],
      "env":[{"name":"A","valueFrom":{"configMapKeyRef":{"name":"c","key":"k"}}}],"envFrom":[{"secretRef":{"name":"s"}}],
      "volumeMounts":[{"name":"v","mountPath":"/v"}],"resources":{"limits":{"cpu":"1","memory":"1Gi"}},
      "livenessProbe":{"httpGet":{"port":"http","httpHeaders":[{"name":"X","value":"y"}]}},
      "lifecycle":{"preStop":{"exec":{"command":["sleep","1"]}}},"securityContext":{"runAsUser":1000}}],
      "tolerations":[{"key":"k","operator":"Exists","effect":"NoExecute","tolerationSeconds":10}],
      "dnsConfig":{"nameservers":["1.1.1.1"],"searches":["a.b"],"options":[{"name":"ndots"}]},
      "topologySpreadConstraints":[{"maxSkew":1,"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule","labelSelector":{"matchLabels":{"a":"b"}}}],
      "hostAliases":[{"ip":"10.0.0.1","hostnames":["h"]}],"readinessGates":[{"conditionType":"x.io/ready"}]}})"},
    {"", "PodTemplate", R"({"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}}})"},
    {"", "ReplicationController", R"({"spec":{"selector":{"a":"b"},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})"},
    {"", "Service", R"({"spec":{"type":"LoadBalancer","externalTrafficPolicy":"Local","healthCheckNodePort":30001,"clusterIP":"10.43.0.9",
      "ports":[{"name":"a","port":80,"nodePort":30080},{"name":"b","port":81,"targetPort":"web"}],"selector":{"a":"b"},
      "sessionAffinity":"ClientIP","loadBalancerSourceRanges":["10.0.0.0/8"],"externalIPs":["1.2.3.4"]},
      "status":{"loadBalancer":{"ingress":[{"ip":"5.6.7.8"}]}}})"},
    {"", "ConfigMap", R"({"immutable":false,"data":{"a":"b"},"binaryData":{"c":"ZA=="}})"},
    {"", "Secret", R"({"type":"kubernetes.io/tls","data":{"tls.crt":"YQ==","tls.key":"Yg=="},"stringData":{"x":"y"}})"},
    {"", "Namespace", R"({"metadata":{"name":"n"},"spec":{"finalizers":["kubernetes"]}})"},
    {"", "PersistentVolumeClaim", R"({"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},
      "selector":{"matchExpressions":[{"key":"a","operator":"Exists"}]},"storageClassName":"local"}})"},
    {"", "PersistentVolume", R"({"spec":{"accessModes":["ReadWriteOnce"],"capacity":{"storage":"1Gi"},"hostPath":{"path":"/d"}}})"},
    {"", "Node", R"({"spec":{"podCIDRs":["10.42.0.0/24"],"taints":[{"key":"k","effect":"NoSchedule"}]},
      "status":{"capacity":{"cpu":"2","memory":"2Gi","pods":"110"}}})"},
    {"", "Endpoints", R"({"subsets":[{"addresses":[{"ip":"10.42.0.5","hostname":"h"}],"ports":[{"name":"a","port":80},{"name":"b","port":81}]}]})"},
    {"apps", "Deployment", R"({"spec":{"selector":{"matchLabels":{"a":"b"}},"strategy":{"rollingUpdate":{"maxSurge":1}},
      "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})"},
    {"apps", "ReplicaSet", R"({"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})"},
    {"apps", "StatefulSet", R"({"spec":{"selector":{"matchLabels":{"a":"b"}},"serviceName":"s","updateStrategy":{"rollingUpdate":{"maxUnavailable":"50%"}},
      "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}},
      "volumeClaimTemplates":[{"metadata":{"name":"d"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}]}})"},
    {"apps", "DaemonSet", R"({"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})"},
    {"batch", "Job", R"({"metadata":{"name":"j","uid":"u"},"spec":{"completionMode":"Indexed","completions":3,"backoffLimitPerIndex":1,
      "podFailurePolicy":{"rules":[{"action":"Ignore","onPodConditions":[{"type":"DisruptionTarget"}]}]},
      "template":{"spec":{"restartPolicy":"Never","containers":[{"name":"a","image":"x"}]}}}})"},
    {"batch", "CronJob", R"({"metadata":{"name":"c"},"spec":{"schedule":"*/5 * * * *","timeZone":"Etc/UTC","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"OnFailure","containers":[{"name":"a","image":"x"}]}}}}}})"},
    {"networking.k8s.io", "Ingress", R"({"metadata":{"annotations":{"kubernetes.io/ingress.class":"x"}},"spec":{"ingressClassName":"traefik","tls":[{"hosts":["*.example.com"]}],
      "rules":[{"host":"a.example.com","http":{"paths":[{"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"name":"http"}}}}]}}]}})"},
    {"networking.k8s.io", "NetworkPolicy", R"({"spec":{"podSelector":{"matchLabels":{"a":"b"}},"ingress":[{"from":[{"ipBlock":{"cidr":"10.0.0.0/8"}}],"ports":[{"port":"http"}]}]}})"},
    {"policy", "PodDisruptionBudget", R"({"spec":{"minAvailable":"50%","selector":{"matchLabels":{"a":"b"}}}})"},
    {"scheduling.k8s.io", "PriorityClass", R"({"metadata":{"name":"high"},"value":1000})"},
    {"coordination.k8s.io", "Lease", R"({"spec":{"holderIdentity":"h","leaseDurationSeconds":15}})"},
};

rapidjson::Document Parse(const char* text) {
  auto parsed = kite::json::ParseJson(text);
  REQUIRE(parsed.ok());
  return std::move(*parsed);
}

// A random replacement value of some other type or shape.
rapidjson::Value RandomValue(std::mt19937& rng, rapidjson::Document::AllocatorType& a) {
  switch (rng() % 14) {
    case 0: return rapidjson::Value(rapidjson::kNullType);
    case 1: return rapidjson::Value(true);
    case 2: return rapidjson::Value(0);
    case 3: return rapidjson::Value(-1);
    case 4: return rapidjson::Value(int64_t{1} << 40);
    case 5: return rapidjson::Value(1.5);
    case 6: return rapidjson::Value("", a);
    case 7: return rapidjson::Value("None", a);
    case 8: return rapidjson::Value(rapidjson::kArrayType);
    case 9: return rapidjson::Value(rapidjson::kObjectType);
    case 10: {
      rapidjson::Value v(rapidjson::kArrayType);
      v.PushBack(1, a).PushBack(rapidjson::Value("a", a), a).PushBack(rapidjson::Value(rapidjson::kObjectType), a);
      return v;
    }
    case 11: return rapidjson::Value(std::string(300, 'x').c_str(), a);
    case 12: return rapidjson::Value("../../etc", a);
    default: {
      rapidjson::Value v(rapidjson::kObjectType);
      v.AddMember("x", rapidjson::Value(rapidjson::kArrayType), a);
      return v;
    }
  }
}

// Every value node of `v`, depth first.
void Collect(rapidjson::Value& v, std::vector<rapidjson::Value*>& out) {
  out.push_back(&v);
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) Collect(m.value, out);
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) Collect(e, out);
  }
}

}  // namespace

TEST_CASE("the valid samples are valid") {
  for (const Sample& s : kSamples) {
    INFO(s.kind);
    rapidjson::Document d = Parse(s.json);
    ApplyDefaults(s.group, "v1", s.kind, d, d.GetAllocator());
    auto causes = Validate(s.group, "v1", s.kind, d, nullptr, "");
    std::string dump;
    for (const auto& c : causes) dump += c.field + ": " + c.message + "\n";
    INFO(dump);
    // Ingress carries a deliberately conflicting class annotation; everything else is clean.
    if (std::string(s.kind) == "Ingress") {
      CHECK(causes.size() == 1);
    } else {
      CHECK(causes.empty());
    }
  }
}

TEST_CASE("randomly mutated objects never crash defaulting or validation") {
  // ADMISSION_FUZZ_ROUNDS / ADMISSION_FUZZ_SEED let a developer run longer campaigns.
  const char* rounds_env = std::getenv("ADMISSION_FUZZ_ROUNDS");
  const char* seed_env = std::getenv("ADMISSION_FUZZ_SEED");
  const int rounds = rounds_env ? std::atoi(rounds_env) : 300;
  std::mt19937 rng(seed_env ? static_cast<unsigned>(std::atoll(seed_env)) : 20240611u);
  size_t total_causes = 0;
  for (const Sample& s : kSamples) {
    rapidjson::Document original = Parse(s.json);
    ApplyDefaults(s.group, "v1", s.kind, original, original.GetAllocator());
    for (int round = 0; round < rounds; ++round) {
      rapidjson::Document d;
      d.CopyFrom(original, d.GetAllocator());
      int mutations = 1 + static_cast<int>(rng() % 4);
      for (int m = 0; m < mutations; ++m) {
        std::vector<rapidjson::Value*> nodes;
        Collect(d, nodes);
        rapidjson::Value* target = nodes[rng() % nodes.size()];
        if (target == &d && rng() % 4 != 0) continue;  // keep the root an object most of the time
        *target = RandomValue(rng, d.GetAllocator());
      }
      bool update = rng() % 2 == 0;
      if (update) PrepareForUpdate(s.group, "v1", s.kind, d, original, d.GetAllocator());
      ApplyDefaults(s.group, "v1", s.kind, d, d.GetAllocator());
      ApplyDefaults(s.group, "v1", s.kind, d, d.GetAllocator());  // twice: idempotence under garbage
      std::string_view sub = rng() % 5 == 0 ? "status" : "";
      auto causes = Validate(s.group, "v1", s.kind, d, update ? &original : nullptr, sub);
      total_causes += causes.size();
      for (const auto& c : causes) {
        CHECK_FALSE(c.reason.empty());
        CHECK_FALSE(c.message.empty());
      }
      // The mutated object as the old one, too.
      (void)Validate(s.group, "v1", s.kind, original, &d, "");
    }
  }
  CHECK(total_causes > 1000);  // the mutations were noticed
}

TEST_CASE("huge lists and maps stay linear") {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();

  // 20000 containers with the same name: one Duplicate cause per repeat.
  std::string containers;
  for (int i = 0; i < 20000; ++i) containers += std::string(i ? "," : "") + R"({"name":"c","image":"x","ports":[{"containerPort":80,"hostPort":80}]})";
  rapidjson::Document pod = Parse((R"({"spec":{"containers":[)" + containers + "]}}").c_str());
  ApplyDefaults("", "v1", "Pod", pod, pod.GetAllocator());
  auto causes = Validate("", "v1", "Pod", pod, nullptr, "");
  size_t duplicates = 0;
  for (const auto& c : causes) duplicates += c.reason == "FieldValueDuplicate" && c.field.find(".name") != std::string::npos;
  CHECK(duplicates == 19999);

  // A template with 100000 labels under a matching selector, updated against itself.
  std::string labels;
  for (int i = 0; i < 100000; ++i) labels += std::string(i ? "," : "") + "\"k" + std::to_string(i) + "\":\"v\"";
  std::string deployment = R"({"spec":{"selector":{"matchLabels":{"k1":"v"}},"template":{"metadata":{"labels":{)" + labels +
                           R"(}},"spec":{"containers":[{"name":"a","image":"x"}]}}}})";
  rapidjson::Document d = Parse(deployment.c_str());
  ApplyDefaults("apps", "v1", "Deployment", d, d.GetAllocator());
  CHECK(Validate("apps", "v1", "Deployment", d, &d, "").empty());

  // A ConfigMap with 50000 keys, immutable, updated with one key changed.
  std::string data;
  for (int i = 0; i < 50000; ++i) data += std::string(i ? "," : "") + "\"key" + std::to_string(i) + "\":\"v\"";
  rapidjson::Document old_cm = Parse((R"({"immutable":true,"data":{)" + data + "}}").c_str());
  rapidjson::Document cm;
  cm.CopyFrom(old_cm, cm.GetAllocator());
  cm["data"]["key49999"].SetString("w");
  auto cm_causes = Validate("", "v1", "ConfigMap", cm, &old_cm, "");
  CHECK(cm_causes.size() == 1);

  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  INFO("elapsed ms: " << elapsed);
  CHECK(elapsed < 20000);  // generous: the machine is shared; quadratic code would take minutes
}
