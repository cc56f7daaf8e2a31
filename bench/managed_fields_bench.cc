// managed_fields_bench: the cost of managedFields tracking (apply::TrackUpdate), which every
// create, update and patch runs, beside the work every write does anyway.
//
//   managed_fields_bench [--seconds S]
//
// The object is a Pod as a ReplicaSet's pod looks in a cluster: labels, annotations, an
// ownerReference, two containers with ports, env, resources and volumeMounts, volumes,
// tolerations, the API server's defaults, and managedFields written by
// kube-controller-manager (create), kube-scheduler (PodScheduled, through /status) and the
// kubelet (the Pending status, through /status). Timed loops:
// - track_status: the kubelet's Pending -> Running status write (conditions, containerStatuses,
//   podIP, phase change): TrackUpdate(before, after) through /status;
// - track_noop: an update that changes nothing (TrackUpdate with after == before);
// - parse_serialize (the reference): parsing the stored object's JSON and serializing it,
//   which every write does whatever the tracking costs.
// Each track iteration copies the prepared `after` document first (TrackUpdate rewrites it);
// the copy is part of the timed work and is small beside the tracking.
// Ends with one RESULT line; ratio_track_vs_parse is the time of one status track over the
// time of one parse + serialize (1.0: tracking costs as much as the JSON round trip).
#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "src/server/apply/apply.h"
#include "src/server/json/json_util.h"
#include "src/server/schema/strategic_schema_adapter.h"

namespace {

using kite::apply::ApplyScope;
using kite::apply::ManagerIdentity;
using kite::apply::TrackUpdate;
using rapidjson::Document;
using rapidjson::Value;
using Clock = std::chrono::steady_clock;

// The pod as kube-controller-manager creates it (after the API server's defaulting).
constexpr char kPod[] = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "web-7d9f8c6b5-x2k4q", "generateName": "web-7d9f8c6b5-", "namespace": "default",
    "uid": "6b1f0c2e-4f0a-4d8e-9a57-0d9e2c1b7a11", "resourceVersion": "12345",
    "creationTimestamp": "2026-11-24T10:00:00Z",
    "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5", "tier": "frontend", "version": "v3"},
    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
                    "kubectl.kubernetes.io/restartedAt": "2026-11-20T08:00:00Z"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9f8c6b5",
                         "uid": "0c9d3e4f-1a2b-4c5d-8e9f-a0b1c2d3e4f5", "controller": true,
                         "blockOwnerDeletion": true}]
  },
  "spec": {
    "volumes": [
      {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
      {"name": "cache", "emptyDir": {}},
      {"name": "kube-api-access-abcde", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}}
    ],
    "containers": [
      {"name": "web", "image": "registry.example.com/web:3.4.1",
       "args": ["--listen=:8080", "--metrics=:9090"],
       "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                 {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}],
       "env": [{"name": "MODE", "value": "production"}, {"name": "LOG_LEVEL", "value": "info"},
               {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}],
       "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
       "volumeMounts": [{"name": "config", "mountPath": "/etc/web", "readOnly": true},
                        {"name": "cache", "mountPath": "/var/cache/web"},
                        {"name": "kube-api-access-abcde", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
       "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "periodSeconds": 5,
                          "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
       "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
       "imagePullPolicy": "IfNotPresent"},
      {"name": "sidecar", "image": "registry.example.com/proxy:1.9",
       "ports": [{"containerPort": 15001, "protocol": "TCP"}],
       "env": [{"name": "UPSTREAM", "value": "127.0.0.1:8080"}],
       "resources": {"limits": {"cpu": "200m", "memory": "64Mi"}, "requests": {"cpu": "50m", "memory": "32Mi"}},
       "volumeMounts": [{"name": "kube-api-access-abcde", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}],
       "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
       "imagePullPolicy": "IfNotPresent"}
    ],
    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
    "serviceAccountName": "default", "serviceAccount": "default", "securityContext": {},
    "schedulerName": "default-scheduler", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority",
    "priority": 0,
    "tolerations": [
      {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
      {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
      {"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}
    ]
  },
  "status": {"phase": "Pending", "qosClass": "Burstable"}
})";

constexpr char kScheduled[] = R"({"type": "PodScheduled", "status": "True", "lastProbeTime": null,
  "lastTransitionTime": "2026-11-24T10:00:01Z"})";

constexpr char kPendingStatus[] = R"({
  "phase": "Pending", "qosClass": "Burstable",
  "conditions": [
    {"type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:02Z"},
    {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:02Z"},
    {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:02Z",
     "reason": "ContainersNotReady", "message": "containers with unready status: [web sidecar]"},
    {"type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:02Z",
     "reason": "ContainersNotReady", "message": "containers with unready status: [web sidecar]"},
    {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:01Z"}
  ],
  "hostIP": "10.0.3.17", "hostIPs": [{"ip": "10.0.3.17"}], "startTime": "2026-11-24T10:00:02Z",
  "containerStatuses": [
    {"name": "sidecar", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}, "ready": false,
     "restartCount": 0, "image": "registry.example.com/proxy:1.9", "imageID": "", "started": false},
    {"name": "web", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}, "ready": false,
     "restartCount": 0, "image": "registry.example.com/web:3.4.1", "imageID": "", "started": false}
  ]
})";

constexpr char kRunningStatus[] = R"({
  "phase": "Running", "qosClass": "Burstable",
  "conditions": [
    {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:04Z"},
    {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:02Z"},
    {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:09Z"},
    {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:09Z"},
    {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-24T10:00:01Z"}
  ],
  "hostIP": "10.0.3.17", "hostIPs": [{"ip": "10.0.3.17"}],
  "podIP": "10.244.3.41", "podIPs": [{"ip": "10.244.3.41"}], "startTime": "2026-11-24T10:00:02Z",
  "containerStatuses": [
    {"name": "sidecar", "state": {"running": {"startedAt": "2026-11-24T10:00:05Z"}}, "lastState": {}, "ready": true,
     "restartCount": 0, "image": "registry.example.com/proxy:1.9",
     "imageID": "registry.example.com/proxy@sha256:5f0e1d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100",
     "containerID": "containerd://0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "started": true},
    {"name": "web", "state": {"running": {"startedAt": "2026-11-24T10:00:04Z"}}, "lastState": {}, "ready": true,
     "restartCount": 0, "image": "registry.example.com/web:3.4.1",
     "imageID": "registry.example.com/web@sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
     "containerID": "containerd://f9e8d7c6b5a49382716051f4e3d2c1b0f9e8d7c6b5a49382716051f4e3d2c1b0", "started": true}
  ]
})";

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Document Parse(std::string_view text) {
  kite::Result<Document> d = kite::json::ParseJson(text);
  if (!d.ok()) {
    std::fprintf(stderr, "bench fixture does not parse: %s\n", d.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(d).value();
}

Document Copy(const Value& v) {
  Document d;
  d.CopyFrom(v, d.GetAllocator());
  return d;
}

void MustTrack(const Value* before, Document& after, const ManagerIdentity& who,
               const kite::patch::StrategicSchema* schema, const ApplyScope& scope) {
  kite::Status s = TrackUpdate(before, after, who, schema, scope);
  if (!s.ok()) {
    std::fprintf(stderr, "TrackUpdate: %s\n", s.ToString().c_str());
    std::exit(1);
  }
}

void SetStatus(Document& pod, std::string_view status_json) {
  Document status = Parse(status_json);
  kite::json::SetMember(pod, "status", Value(status, pod.GetAllocator()), pod.GetAllocator());
}

// Runs `body` repeatedly for about `seconds`; returns runs per second.
template <class F>
double Rate(double seconds, F&& body) {
  for (int i = 0; i < 50; ++i) body();  // warm up
  long n = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  Clock::time_point now;
  do {
    for (int i = 0; i < 64; ++i) body();
    n += 64;
    now = Clock::now();
  } while (now < deadline);
  return static_cast<double>(n) / Seconds(now - start);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S]\n", argv[0]);
      return 2;
    }
  }
  const kite::patch::StrategicSchema* schema = kite::schema::StrategicSchemaFor("", "v1", "Pod");
  if (schema == nullptr) {
    std::fprintf(stderr, "no schema for v1 Pod\n");
    return 1;
  }
  const ApplyScope main_scope = ApplyScope::MainResource(true);
  const ApplyScope status_scope = ApplyScope::StatusSubresource();
  const ManagerIdentity kcm{"kube-controller-manager", "v1", "", "2026-11-24T10:00:00Z"};
  const ManagerIdentity scheduler{"kube-scheduler", "v1", "status", "2026-11-24T10:00:01Z"};
  const ManagerIdentity kubelet_pending{"kubelet", "v1", "status", "2026-11-24T10:00:02Z"};
  const ManagerIdentity kubelet_running{"kubelet", "v1", "status", "2026-11-24T10:00:09Z"};

  // The stored history: created by the ReplicaSet controller, scheduled, then Pending.
  Document created = Parse(kPod);
  MustTrack(nullptr, created, kcm, schema, main_scope);
  Document scheduled = Copy(created);
  {
    Value& status = *kite::json::MutableMember(scheduled, "status");
    Value conditions(rapidjson::kArrayType);
    Document cond = Parse(kScheduled);
    conditions.PushBack(Value(cond, scheduled.GetAllocator()), scheduled.GetAllocator());
    kite::json::SetMember(status, "conditions", std::move(conditions), scheduled.GetAllocator());
    kite::json::SetStringMember(*kite::json::MutableMember(scheduled, "spec"), "nodeName", "sim-node-0417",
                                scheduled.GetAllocator());
  }
  MustTrack(&created, scheduled, scheduler, schema, status_scope);
  Document pending = Copy(scheduled);
  SetStatus(pending, kPendingStatus);
  MustTrack(&scheduled, pending, kubelet_pending, schema, status_scope);

  // The writes the loops repeat: `before` is the stored Pending pod (with its managedFields),
  // `after` the body the server hands to TrackUpdate.
  Document running = Copy(pending);
  SetStatus(running, kRunningStatus);
  const Document noop = Copy(pending);
  const std::string stored = kite::json::ToJson(pending);

  {
    // Sanity: the status write changes the kubelet's entry, the no-op changes nothing.
    Document a = Copy(running);
    MustTrack(&pending, a, kubelet_running, schema, status_scope);
    Document b = Copy(noop);
    MustTrack(&pending, b, kubelet_running, schema, status_scope);
    if (kite::json::ToJson(b) != stored || kite::json::ToJson(a) == kite::json::ToJson(running)) {
      std::fprintf(stderr, "unexpected tracking result\n");
      return 1;
    }
    std::printf("pod: %zu bytes of JSON, managedFields of %u managers\n", stored.size(),
                kite::json::Member(*kite::json::Member(pending, "metadata"), "managedFields")->Size());
  }

  size_t sink = 0;
  const double status_rate = Rate(seconds, [&] {
    Document after = Copy(running);
    MustTrack(&pending, after, kubelet_running, schema, status_scope);
    sink += after.MemberCount();
  });
  const double noop_rate = Rate(seconds, [&] {
    Document after = Copy(noop);
    MustTrack(&pending, after, kubelet_running, schema, status_scope);
    sink += after.MemberCount();
  });
  const double parse_rate = Rate(seconds, [&] {
    Document d = Parse(stored);
    sink += kite::json::ToJson(d).size();
  });
  if (sink == 0) std::printf("(sink)\n");

  std::printf("%-34s %12.0f /s   %.2fx the parse+serialize time\n", "TrackUpdate, kubelet status write",
              status_rate, parse_rate / status_rate);
  std::printf("%-34s %12.0f /s   %.2fx the parse+serialize time\n", "TrackUpdate, no-op update", noop_rate,
              parse_rate / noop_rate);
  std::printf("%-34s %12.0f /s   (reference)\n", "parse + serialize the object", parse_rate);
  std::printf("RESULT track_status_per_s=%.0f track_noop_per_s=%.0f parse_serialize_per_s=%.0f "
              "ratio_track_vs_parse=%.2f\n",
              status_rate, noop_rate, parse_rate, parse_rate / status_rate);
  return 0;
}
