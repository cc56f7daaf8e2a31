#include "src/server/controllers/root_ca_publisher.h"

#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {

using rapidjson::Document;
using rapidjson::Value;

namespace {

constexpr char kDescriptionAnnotation[] = "kubernetes.io/description";

Value Data(const std::string& pem, Document::AllocatorType& a) {
  Value data(rapidjson::kObjectType);
  json::SetStringMember(data, "ca.crt", pem, a);
  return data;
}

}  // namespace

void RootCaPublisher::Register(client::InformerFactory& informers, WorkQueue& queue) {
  namespaces_ = &informers.For(client::kNamespaces);
  config_maps_ = &informers.For(client::kConfigMaps);
  client_.emplace(informers.ClientFor(client::kConfigMaps));
  auto namespace_changed = [&queue](const client::ObjectPtr& ns) { queue.Add(std::string(NameOf(*ns))); };
  namespaces_->AddHandlers({
      .on_add = namespace_changed,
      .on_update = [namespace_changed](const client::ObjectPtr&, const client::ObjectPtr& ns) { namespace_changed(ns); },
      .on_delete = nullptr,
  });
  auto config_map_changed = [&queue](const client::ObjectPtr& cm) {
    if (NameOf(*cm) == kRootCaConfigMapName) queue.Add(std::string(NamespaceOf(*cm)));
  };
  config_maps_->AddHandlers({
      .on_add = nullptr,
      .on_update = [config_map_changed](const client::ObjectPtr&, const client::ObjectPtr& cm) { config_map_changed(cm); },
      .on_delete = config_map_changed,
  });
}

Status RootCaPublisher::Reconcile(const std::string& ns_name) {
  client::ObjectPtr ns = namespaces_->Get(ns_name);
  // A namespace being deleted refuses new content anyway.
  if (!ns || IsBeingDeleted(*ns)) return Status();
  client::ObjectPtr cm = config_maps_->Get(ns_name, kRootCaConfigMapName);
  if (!cm) {
    Document created(rapidjson::kObjectType);
    auto& a = created.GetAllocator();
    json::SetStringMember(created, "apiVersion", "v1", a);
    json::SetStringMember(created, "kind", "ConfigMap", a);
    Value& md = json::EnsureObjectMember(created, "metadata", a);
    json::SetStringMember(md, "name", kRootCaConfigMapName, a);
    json::SetStringMember(json::EnsureObjectMember(md, "annotations", a), kDescriptionAnnotation, kRootCaDescription, a);
    json::SetMember(created, "data", Data(ca_pem_, a), a);
    Result<Document> r = client_->Create(ns_name, created);
    if (r.ok()) return Status();
    // Gone or terminating namespaces refuse it: nothing to retry. An existing one (cache
    // lag) comes back as an event.
    if (r.status().code() == StatusCode::kNotFound || r.status().code() == StatusCode::kAlreadyExists ||
        r.status().message().find("because it is being terminated") != std::string::npos) {
      return Status();
    }
    return r.status();
  }
  Document want(rapidjson::kObjectType);
  Value data = Data(ca_pem_, want.GetAllocator());
  const Value* have = json::Member(*cm, "data");
  bool description = !AnnotationOf(*cm, kDescriptionAnnotation).value_or("").empty();
  if (have && *have == data && description) return Status();

  Document updated;
  updated.CopyFrom(*cm, updated.GetAllocator());
  auto& a = updated.GetAllocator();
  json::SetMember(updated, "data", Value(data, a), a);
  Value& md = json::EnsureObjectMember(updated, "metadata", a);
  json::SetStringMember(json::EnsureObjectMember(md, "annotations", a), kDescriptionAnnotation, kRootCaDescription, a);
  Result<Document> r = client_->Update(updated);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  return Status();
}

}  // namespace kite::controllers
