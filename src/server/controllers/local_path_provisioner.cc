#include "src/server/controllers/local_path_provisioner.h"

#include "src/server/admission/default_storage_class.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using json::Member;
using json::StringMember;
using rapidjson::Document;
using rapidjson::Value;

namespace {

Value StringValue(std::string_view s, Document::AllocatorType& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

void LocalPathProvisioner::Register(client::InformerFactory& informers, WorkQueue& queue) {
  claims_ = &informers.For(client::kPersistentVolumeClaims);
  volumes_ = &informers.For(client::kPersistentVolumes);
  classes_ = &informers.For(kStorageClasses);
  nodes_ = &informers.For(client::kNodes);
  class_client_.emplace(informers.ClientFor(kStorageClasses));
  volume_client_.emplace(informers.ClientFor(client::kPersistentVolumes));
  queue.Add("");  // the StorageClass, once the caches are filled
  auto claim_changed = [&queue](const client::ObjectPtr& claim) {
    if (VolumeNameOf(*claim).empty()) queue.Add(client::ObjectKey(*claim));
  };
  claims_->AddHandlers({
      .on_add = claim_changed,
      .on_update = [claim_changed](const client::ObjectPtr&, const client::ObjectPtr& c) { claim_changed(c); },
      .on_delete = nullptr,
  });
}

Status LocalPathProvisioner::Reconcile(const std::string& key) {
  if (key.empty()) return EnsureStorageClass();
  client::ObjectPtr claim = claims_->Get(key);
  if (!claim) return Status();
  return Provision(*claim);
}

Status LocalPathProvisioner::EnsureStorageClass() {
  if (classes_->Get(kLocalPathClass)) return Status();
  Document sc(rapidjson::kObjectType);
  auto& a = sc.GetAllocator();
  json::SetStringMember(sc, "apiVersion", "storage.k8s.io/v1", a);
  json::SetStringMember(sc, "kind", "StorageClass", a);
  Value& md = json::EnsureObjectMember(sc, "metadata", a);
  json::SetStringMember(md, "name", kLocalPathClass, a);
  json::SetStringMember(json::EnsureObjectMember(md, "annotations", a), admission::kIsDefaultClassAnnotation, "true", a);
  json::SetStringMember(sc, "provisioner", kLocalPathProvisioner, a);
  json::SetStringMember(sc, "reclaimPolicy", "Delete", a);
  json::SetStringMember(sc, "volumeBindingMode", "WaitForFirstConsumer", a);
  Result<Document> created = class_client_->Create("", sc);
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  return Status();
}

Status LocalPathProvisioner::Provision(const Value& claim) {
  if (!VolumeNameOf(claim).empty() || IsBeingDeleted(claim)) return Status();
  if (AnnotationOf(claim, kAnnStorageProvisioner) != kLocalPathProvisioner) return Status();
  std::optional<std::string_view> selected = AnnotationOf(claim, kAnnSelectedNode);
  if (!selected || selected->empty()) return Status();
  const Value* spec = Member(claim, "spec");
  if (spec && StringMember(*spec, "volumeMode") == "Block") return Status();
  client::ObjectPtr storage_class = classes_->Get(ClaimClass(claim));
  if (!storage_class || ProvisionerOf(*storage_class) != kLocalPathProvisioner) return Status();
  client::ObjectPtr node = nodes_->Get(*selected);
  if (!node) return Status();  // the scheduler picks again once the node is back, or another

  Document volume = VolumeFor(claim, *node, ClassReclaimPolicy(*storage_class));
  if (volumes_->Get(NameOf(volume))) return Status();
  Result<Document> created = volume_client_->Create("", volume);
  if (!created.ok() && created.status().code() != StatusCode::kAlreadyExists) return created.status();
  return Status();
}

Document LocalPathProvisioner::VolumeFor(const Value& claim, const Value& node, std::string_view reclaim_policy) {
  Document pv(rapidjson::kObjectType);
  auto& a = pv.GetAllocator();
  std::string uid(UidOf(claim));
  std::string_view ns = NamespaceOf(claim);
  std::string_view name = NameOf(claim);
  std::string root(AnnotationOf(node, kLocalPathRootAnnotation).value_or(""));
  if (root.empty()) root = kDefaultLocalPathRoot;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::string path = root + "/pvc-" + uid + "_" + std::string(ns) + "_" + std::string(name);

  json::SetStringMember(pv, "apiVersion", "v1", a);
  json::SetStringMember(pv, "kind", "PersistentVolume", a);
  Value& md = json::EnsureObjectMember(pv, "metadata", a);
  json::SetStringMember(md, "name", "pvc-" + uid, a);
  json::SetStringMember(json::EnsureObjectMember(md, "annotations", a), kAnnProvisionedBy, kLocalPathProvisioner, a);

  Value& spec = json::EnsureObjectMember(pv, "spec", a);
  const Value* claim_spec = Member(claim, "spec");
  const Value* resources = claim_spec ? Member(*claim_spec, "resources") : nullptr;
  const Value* requests = resources ? Member(*resources, "requests") : nullptr;
  const Value* storage = requests ? Member(*requests, "storage") : nullptr;
  Value capacity(rapidjson::kObjectType);
  json::SetMember(capacity, "storage", storage ? Value(*storage, a) : StringValue("0", a), a);
  json::SetMember(spec, "capacity", std::move(capacity), a);
  const Value* modes = claim_spec ? Member(*claim_spec, "accessModes") : nullptr;
  json::SetMember(spec, "accessModes", modes ? Value(*modes, a) : Value(rapidjson::kArrayType), a);
  std::string_view volume_mode = claim_spec ? StringMember(*claim_spec, "volumeMode") : std::string_view();
  json::SetStringMember(spec, "volumeMode", volume_mode.empty() ? "Filesystem" : volume_mode, a);

  Value host_path(rapidjson::kObjectType);
  json::SetStringMember(host_path, "path", path, a);
  json::SetStringMember(host_path, "type", "DirectoryOrCreate", a);
  json::SetMember(spec, "hostPath", std::move(host_path), a);

  Value values(rapidjson::kArrayType);
  values.PushBack(StringValue(NameOf(node), a), a);
  Value requirement(rapidjson::kObjectType);
  json::SetStringMember(requirement, "key", kHostnameLabel, a);
  json::SetStringMember(requirement, "operator", "In", a);
  json::SetMember(requirement, "values", std::move(values), a);
  Value expressions(rapidjson::kArrayType);
  expressions.PushBack(std::move(requirement), a);
  Value term(rapidjson::kObjectType);
  json::SetMember(term, "matchExpressions", std::move(expressions), a);
  Value terms(rapidjson::kArrayType);
  terms.PushBack(std::move(term), a);
  Value required(rapidjson::kObjectType);
  json::SetMember(required, "nodeSelectorTerms", std::move(terms), a);
  Value affinity(rapidjson::kObjectType);
  json::SetMember(affinity, "required", std::move(required), a);
  json::SetMember(spec, "nodeAffinity", std::move(affinity), a);

  Value ref(rapidjson::kObjectType);
  json::SetStringMember(ref, "kind", "PersistentVolumeClaim", a);
  json::SetStringMember(ref, "namespace", ns, a);
  json::SetStringMember(ref, "name", name, a);
  json::SetStringMember(ref, "uid", uid, a);
  json::SetStringMember(ref, "apiVersion", "v1", a);
  const Value* claim_md = Member(claim, "metadata");
  json::SetStringMember(ref, "resourceVersion", claim_md ? StringMember(*claim_md, "resourceVersion") : "", a);
  json::SetMember(spec, "claimRef", std::move(ref), a);
  json::SetStringMember(spec, "storageClassName", ClaimClass(claim), a);
  json::SetStringMember(spec, "persistentVolumeReclaimPolicy", reclaim_policy, a);
  return pv;
}

}  // namespace kite::controllers
