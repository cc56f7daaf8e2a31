#include "src/server/apiserver/admission_plugins.h"

#include <vector>

#include "src/server/admission/default_storage_class.h"
#include "src/server/admission/limit_ranger.h"
#include "src/server/admission/pod_defaults.h"
#include "src/server/apiserver/object_codec.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
using namespace kite::json;  // NOLINT: the JSON helpers are this layer's vocabulary
namespace {

using rapidjson::Document;
using rapidjson::Value;

// The objects read (parsed; unparsable values skipped).
std::vector<Document> ParseAll(const std::vector<store::KeyValue>& items) {
  std::vector<Document> out;
  out.reserve(items.size());
  for (const store::KeyValue& item : items) {
    if (Result<Document> doc = ParseJsonObject(item.value); doc.ok()) out.push_back(std::move(doc).value());
  }
  return out;
}

std::vector<const Value*> Views(const std::vector<Document>& docs) {
  std::vector<const Value*> views;
  views.reserve(docs.size());
  for (const Document& d : docs) views.push_back(&d);
  return views;
}

constexpr char kServiceAccountMountPath[] = "/var/run/secrets/kubernetes.io/serviceaccount";

// The ServiceAccount admission plugin's projected "kube-api-access-<random>" volume: a bound
// token (3607 s, which the agent refreshes), the cluster CA from the kube-root-ca.crt
// ConfigMap and the namespace, mounted read-only into every container at the path client
// libraries look in. Skipped when the pod opts out (automountServiceAccountToken: false) or a
// container already mounts something there.
void AddServiceAccountTokenVolume(Value& spec, Document::AllocatorType& a) {
  const Value* automount = Member(spec, "automountServiceAccountToken");
  if (automount && automount->IsBool() && !automount->GetBool()) return;
  Value* volumes = MutableMember(spec, "volumes");
  if (volumes && !volumes->IsArray()) return;  // validation reports it
  for (const char* list : {"initContainers", "containers"}) {
    const Value* containers = Member(spec, list);
    if (!containers || !containers->IsArray()) continue;
    for (const Value& c : containers->GetArray()) {
      const Value* mounts = c.IsObject() ? Member(c, "volumeMounts") : nullptr;
      if (!mounts || !mounts->IsArray()) continue;
      for (const Value& m : mounts->GetArray()) {
        if (m.IsObject() && StringMember(m, "mountPath") == kServiceAccountMountPath) return;
      }
    }
  }
  std::string name = "kube-api-access-" + RandomNameSuffix();
  Result<Document> volume = ParseJsonObject(
      R"({"name":")" + name + R"(","projected":{"defaultMode":420,"sources":[)"
      R"({"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},)"
      R"({"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},)"
      R"({"downwardAPI":{"items":[{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"},"path":"namespace"}]}}]}})");
  if (!volume.ok()) return;
  if (!volumes) {
    SetMember(spec, "volumes", Value(rapidjson::kArrayType), a);
    volumes = MutableMember(spec, "volumes");
  }
  volumes->PushBack(Value(*volume, a), a);
  for (const char* list : {"initContainers", "containers"}) {
    Value* containers = MutableMember(spec, list);
    if (!containers || !containers->IsArray()) continue;
    for (Value& c : containers->GetArray()) {
      if (!c.IsObject()) continue;
      Value* mounts = MutableMember(c, "volumeMounts");
      if (mounts && !mounts->IsArray()) continue;
      if (!mounts) {
        SetMember(c, "volumeMounts", Value(rapidjson::kArrayType), a);
        mounts = MutableMember(c, "volumeMounts");
      }
      Value m(rapidjson::kObjectType);
      SetStringMember(m, "name", name, a);
      SetMember(m, "readOnly", Value(true), a);
      SetStringMember(m, "mountPath", kServiceAccountMountPath, a);
      mounts->PushBack(std::move(m), a);
    }
  }
}

// What Kubernetes' ServiceAccount and DefaultTolerationSeconds admission plugins add to a
// new pod: the "default" service account when none is named, and 300 s tolerations of the
// not-ready and unreachable NoExecute taints (so a node outage evicts its pods after five
// minutes, not at once).
void AdmitNewPod(Document& pod) {
  auto& a = pod.GetAllocator();
  Value* spec = MutableMember(pod, "spec");
  if (!spec || !spec->IsObject()) return;
  if (StringMember(*spec, "serviceAccountName").empty()) {
    std::string name(StringMember(*spec, "serviceAccount"));
    if (name.empty()) name = "default";
    SetStringMember(*spec, "serviceAccountName", name, a);
    SetStringMember(*spec, "serviceAccount", name, a);
  }
  Value* tolerations = MutableMember(*spec, "tolerations");
  if (tolerations && !tolerations->IsArray()) return;  // validation reports it
  for (const char* taint : {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"}) {
    bool tolerated = false;
    if (tolerations) {
      for (const Value& t : tolerations->GetArray()) {
        if (!t.IsObject()) continue;
        std::string_view key = StringMember(t, "key");
        std::string_view effect = StringMember(t, "effect");
        bool key_matches = key == taint || (key.empty() && StringMember(t, "operator") == "Exists");
        if (key_matches && (effect.empty() || effect == "NoExecute")) tolerated = true;
      }
    }
    if (tolerated) continue;
    if (!tolerations) {
      SetMember(*spec, "tolerations", Value(rapidjson::kArrayType), a);
      tolerations = MutableMember(*spec, "tolerations");
    }
    Value t(rapidjson::kObjectType);
    SetStringMember(t, "key", taint, a);
    SetStringMember(t, "operator", "Exists", a);
    SetStringMember(t, "effect", "NoExecute", a);
    SetMember(t, "tolerationSeconds", Value(int64_t{300}), a);
    tolerations->PushBack(std::move(t), a);
  }
  AddServiceAccountTokenVolume(*spec, a);
}

// Kubernetes' DefaultStorageClass admission plugin: a new claim that names no class gets
// the default one (read from the store: one range over the few StorageClasses).
void AdmitNewClaim(Document& claim, store::KvStore* kv) {
  Result<store::RangeResult> read =
      kv->Range(store::RangeRequest::Prefix(CollectionPrefix("storage.k8s.io", "storageclasses", "")));
  std::vector<Document> classes = read.ok() ? ParseAll(read->kvs) : std::vector<Document>{};
  admission::AdmitDefaultStorageClass(claim, Views(classes), claim.GetAllocator());
}

}  // namespace

AdmissionPlugins::AdmissionPlugins(store::KvStore* kv, const Clock* clock)
    : kv_(kv), limit_ranges_(kv, CollectionPrefix("", "limitranges", "")), quota_(kv, clock) {}

const std::vector<Document>& AdmissionPlugins::LimitRanges(const AdmissionAttributes& write) const {
  if (!write.limit_ranges) {
    Result<std::vector<store::KeyValue>> read = limit_ranges_.Range(CollectionPrefix("", "limitranges", write.ns));
    write.limit_ranges = read.ok() ? ParseAll(*read) : std::vector<Document>{};
  }
  return *write.limit_ranges;
}

void AdmissionPlugins::Mutate(const AdmissionAttributes& write, Document& object) const {
  if (!write.group.empty() || write.old) return;
  if (write.kind == "Pod") {
    AdmitNewPod(object);
    const std::vector<Document>& ranges = LimitRanges(write);
    if (!ranges.empty()) {
      admission::ApplyLimitRangeDefaults(write.kind, object, Views(ranges), object.GetAllocator());
      // The QoS class follows the resources as admitted (Kubernetes computes it after the
      // mutating plugins, in the pod strategy).
      const Value* spec = Member(object, "spec");
      Value* status = MutableMember(object, "status");
      if (spec && spec->IsObject() && status && status->IsObject() && Member(*status, "qosClass")) {
        SetStringMember(*status, "qosClass", admission::PodQosClass(*spec), object.GetAllocator());
      }
    }
  } else if (write.kind == "PersistentVolumeClaim") {
    AdmitNewClaim(object, kv_);
  }
}

std::optional<std::string> AdmissionPlugins::Refusal(const AdmissionAttributes& write, const Value& object) {
  // LimitRanger: pods when created (their resources are immutable), claims on every write.
  bool limited = write.group.empty() && ((write.kind == "Pod" && !write.old) || write.kind == "PersistentVolumeClaim");
  if (limited) {
    const std::vector<Document>& ranges = LimitRanges(write);
    if (!ranges.empty()) {
      std::vector<std::string> violations = admission::LimitRangeViolations(write.kind, object, Views(ranges));
      if (!violations.empty()) return admission::LimitRangeForbiddenMessage(violations);
    }
  }
  // ResourceQuota last, so that only writes every other plugin admitted are charged.
  if (!write.ns.empty() && quota::QuotaAdmission::Handles(write.group, write.resource, write.old != nullptr)) {
    return quota_.Admit(write.group, write.resource, write.ns, object, write.old, write.dry_run);
  }
  return std::nullopt;
}

}  // namespace kite::apiserver
