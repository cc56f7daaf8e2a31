#include "src/server/controllers/crd_controller.h"

#include "src/base/clock.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/controllers/controller_ref.h"
#include "src/server/crd/crd_status.h"
#include "src/server/json/json_util.h"

namespace kite::controllers {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr std::string_view kCleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

std::string_view Group(const Value& crd) {
  const Value* spec = json::Member(crd, "spec");
  return spec ? json::StringMember(*spec, "group") : std::string_view();
}

}  // namespace

void CrdController::Register(client::InformerFactory& informers, WorkQueue& queue) {
  informers_ = &informers;
  crds_ = &informers.For(client::kCustomResourceDefinitions);
  auto add = [&queue](const client::ObjectPtr& crd) { queue.Add(client::ObjectKey(*crd)); };
  crds_->AddHandlers({
      .on_add = add,
      .on_update = [&queue](const client::ObjectPtr&, const client::ObjectPtr& crd) { queue.Add(client::ObjectKey(*crd)); },
      // A deleted CRD may free names another CRD of its group was refused.
      .on_delete = [this, &queue](const client::ObjectPtr& gone) {
        for (const client::ObjectPtr& crd : crds_->List()) {
          if (Group(*crd) == Group(*gone)) queue.Add(client::ObjectKey(*crd));
        }
      },
  });
}

Status CrdController::Reconcile(const std::string& name) {
  client::ObjectPtr crd = crds_->Get(name);
  if (!crd) return Status();
  const Value* md = json::Member(*crd, "metadata");
  if (md && json::Member(*md, "deletionTimestamp")) {
    return HasFinalizer(*crd, kCleanupFinalizer) ? CleanUp(*crd) : Status();
  }
  std::vector<client::ObjectPtr> others;
  std::vector<const Value*> other_values;
  for (const client::ObjectPtr& other : crds_->List()) {
    if (other != crd && Group(*other) == Group(*crd)) {
      others.push_back(other);
      other_values.push_back(other.get());
    }
  }
  Document updated;
  updated.CopyFrom(*crd, updated.GetAllocator());
  crd::SetAcceptedStatus(updated, updated.GetAllocator(), other_values,
                         FormatRfc3339Seconds(SystemClock::Get()->NowMillis()));
  const Value* before = json::Member(*crd, "status");
  const Value* after = json::Member(updated, "status");
  if (before && after && json::ToJson(*before) == json::ToJson(*after)) return Status();
  Result<Document> r = informers_->ClientFor(client::kCustomResourceDefinitions).UpdateStatus(updated);
  return r.ok() ? Status() : r.status();
}

Status CrdController::CleanUp(const Value& crd) {
  const Value* spec = json::Member(crd, "spec");
  const Value* names = spec ? json::Member(*spec, "names") : nullptr;
  const Value* versions = spec ? json::Member(*spec, "versions") : nullptr;
  std::string plural(names ? json::StringMember(*names, "plural") : std::string_view());
  std::string version;
  if (versions && versions->IsArray()) {
    for (const Value& v : versions->GetArray()) {
      const Value* served = v.IsObject() ? json::Member(v, "served") : nullptr;
      if (served && served->IsBool() && served->GetBool()) {
        version = json::StringMember(v, "name");
        break;
      }
    }
  }
  if (!plural.empty() && !version.empty()) {
    bool namespaced = json::StringMember(*spec, "scope") != "Cluster";
    client::ResourceClient objects =
        informers_->ClientFor({std::string(Group(crd)), version, plural, namespaced});
    Status deleted = objects.DeleteCollection("");
    // Not served (never established, or already gone from discovery): nothing to delete.
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
    if (deleted.ok()) {
      Result<Document> left = objects.List("");
      if (left.ok()) {
        const Value* items = json::Member(*left, "items");
        if (items && items->IsArray() && !items->Empty()) {
          return Status(StatusCode::kUnavailable, "custom objects are still being deleted");
        }
      }
    }
  }
  std::string patch = R"({"metadata":{"$deleteFromPrimitiveList/finalizers":[")" + std::string(kCleanupFinalizer) + R"("]}})";
  Result<Document> r = informers_->ClientFor(client::kCustomResourceDefinitions)
                           .Patch("", json::StringMember(*json::Member(crd, "metadata"), "name"),
                                  client::PatchType::kStrategic, patch);
  if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  return Status();
}

}  // namespace kite::controllers
