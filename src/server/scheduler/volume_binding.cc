#include "src/server/scheduler/volume_binding.h"

#include "src/server/controllers/controller_ref.h"
#include "src/server/controllers/persistent_volume_util.h"
#include "src/server/json/json_util.h"

namespace kite::scheduler {

using controllers::AnnotationOf;
using rapidjson::Value;

namespace {

struct VolumeState final : CycleState::Data {
  std::vector<std::pair<std::string, client::ObjectPtr>> bound;  // volume name, volume (null: gone)
  struct Delayed {
    client::ObjectPtr claim;
    client::ObjectPtr storage_class;
  };
  std::vector<Delayed> delayed;  // unbound claims of WaitForFirstConsumer classes
  std::vector<client::ObjectPtr> volumes;
};

// Whether `claim` waits for its first consumer (unbound, of a WaitForFirstConsumer class);
// sets `storage_class`.
bool IsDelayed(const VolumeListers& listers, const Value& claim, client::ObjectPtr* storage_class) {
  std::string_view class_name = controllers::ClaimClass(claim);
  *storage_class = class_name.empty() || !listers.classes ? nullptr : listers.classes->Get(class_name);
  return *storage_class && controllers::IsWaitForFirstConsumer(**storage_class);
}

}  // namespace

PreFilterResult VolumeBinding::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot&) {
  if (!listers_ || !listers_->claims || !pod.object) return {};
  std::vector<std::string> names = controllers::PodClaimNames(*pod.object);
  if (names.empty()) return {};
  auto data = std::make_unique<VolumeState>();
  for (const std::string& name : names) {
    client::ObjectPtr claim = listers_->claims->Get(pod.ns, name);
    if (!claim) return {PluginStatus::Unresolvable("persistentvolumeclaim \"" + name + "\" not found"), {}};
    if (controllers::IsBeingDeleted(*claim)) {
      return {PluginStatus::Unresolvable("persistentvolumeclaim \"" + name + "\" is being deleted"), {}};
    }
    if (controllers::IsClaimFullyBound(*claim)) {
      std::string volume(controllers::VolumeNameOf(*claim));
      data->bound.emplace_back(volume, listers_->volumes ? listers_->volumes->Get(volume) : nullptr);
      continue;
    }
    client::ObjectPtr storage_class;
    if (!IsDelayed(*listers_, *claim, &storage_class)) {
      return {PluginStatus::Unresolvable(std::string(kUnboundImmediate)), {}};
    }
    data->delayed.push_back({claim, storage_class});
  }
  if (!data->delayed.empty() && listers_->volumes) data->volumes = listers_->volumes->List();
  state.Write(this, std::move(data));
  return {};
}

PluginStatus VolumeBinding::Filter(const CycleState& state, const PodInfo&, const NodeInfo& node) const {
  const VolumeState* data = state.Read<VolumeState>(this);
  if (!data) return PluginStatus::Success();
  const Value* node_object = node.node() ? node.node().get() : nullptr;
  for (const auto& [name, volume] : data->bound) {
    if (!volume) return PluginStatus::Unresolvable(std::string(kPvNotExist));
    if (node_object && !controllers::VolumeNodeAffinityAllows(*volume, *node_object)) {
      return PluginStatus::Unresolvable(std::string(kNodeConflict));
    }
  }
  if (data->delayed.empty() || !node_object) return PluginStatus::Success();
  std::set<std::string, std::less<>> chosen;
  for (const VolumeState::Delayed& d : data->delayed) {
    controllers::VolumeMatchOptions options;
    options.node = node_object;
    options.delay_binding = true;
    options.excluded = &chosen;
    if (client::ObjectPtr match = controllers::FindBestMatchForClaim(*d.claim, data->volumes, options)) {
      chosen.emplace(controllers::NameOf(*match));
      continue;
    }
    if (!controllers::ClassCanProvision(*d.storage_class, node_object)) {
      return PluginStatus::Unresolvable(std::string(kBindConflict));
    }
  }
  return PluginStatus::Success();
}

void AddVolumeBinding(std::vector<std::unique_ptr<Plugin>>& plugins, const VolumeListers* listers) {
  auto at = plugins.end();
  for (auto it = plugins.begin(); it != plugins.end(); ++it) {
    if ((*it)->Name() == "NodeResourcesFit") at = it + 1;
  }
  plugins.insert(at, std::make_unique<VolumeBinding>(listers));
}

Status SetSelectedNode(const VolumeListers& listers, const client::ResourceClient& claims, const PodInfo& pod,
                       std::string_view node) {
  if (!listers.claims || !pod.object) return Status();
  for (const std::string& name : controllers::PodClaimNames(*pod.object)) {
    client::ObjectPtr claim = listers.claims->Get(pod.ns, name);
    client::ObjectPtr storage_class;
    if (!claim || !controllers::VolumeNameOf(*claim).empty() || !IsDelayed(listers, *claim, &storage_class)) continue;
    if (AnnotationOf(*claim, controllers::kAnnSelectedNode) == node) continue;
    rapidjson::Document patch(rapidjson::kObjectType);
    auto& a = patch.GetAllocator();
    Value annotations(rapidjson::kObjectType);
    json::SetStringMember(annotations, controllers::kAnnSelectedNode, node, a);
    Value md(rapidjson::kObjectType);
    json::SetMember(md, "annotations", std::move(annotations), a);
    json::SetMember(patch, "metadata", std::move(md), a);
    Result<rapidjson::Document> r = claims.Patch(pod.ns, name, client::PatchType::kMerge, json::ToJson(patch));
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
  }
  return Status();
}

}  // namespace kite::scheduler
