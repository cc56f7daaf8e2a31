#include "src/server/scheduler/taints.h"

#include "src/server/json/json_util.h"

namespace kite::scheduler {

using json::Member;
using json::StringMember;

bool Toleration::Tolerates(const Taint& taint) const {
  if (!effect.empty() && effect != taint.effect) return false;
  if (!key.empty() && key != taint.key) return false;
  if (op.empty() || op == "Equal") return value == taint.value;
  return op == "Exists";
}

std::vector<Taint> ParseTaints(const rapidjson::Value& node) {
  std::vector<Taint> taints;
  const rapidjson::Value* spec = Member(node, "spec");
  const rapidjson::Value* list = spec ? Member(*spec, "taints") : nullptr;
  if (!list || !list->IsArray()) return taints;
  for (const auto& t : list->GetArray()) {
    if (!t.IsObject()) continue;
    taints.push_back({std::string(StringMember(t, "key")), std::string(StringMember(t, "value")),
                      std::string(StringMember(t, "effect"))});
  }
  return taints;
}

std::vector<Toleration> ParseTolerations(const rapidjson::Value& pod) {
  std::vector<Toleration> tolerations;
  const rapidjson::Value* spec = Member(pod, "spec");
  const rapidjson::Value* list = spec ? Member(*spec, "tolerations") : nullptr;
  if (!list || !list->IsArray()) return tolerations;
  for (const auto& t : list->GetArray()) {
    if (!t.IsObject()) continue;
    tolerations.push_back({std::string(StringMember(t, "key")), std::string(StringMember(t, "operator")),
                           std::string(StringMember(t, "value")), std::string(StringMember(t, "effect"))});
  }
  return tolerations;
}

bool TolerationsTolerate(const std::vector<Toleration>& tolerations, const Taint& taint) {
  for (const Toleration& t : tolerations) {
    if (t.Tolerates(taint)) return true;
  }
  return false;
}

std::optional<Taint> FindUntoleratedTaint(const std::vector<Taint>& taints,
                                          const std::vector<Toleration>& tolerations,
                                          const std::function<bool(const Taint&)>& include) {
  for (const Taint& taint : taints) {
    if (include && !include(taint)) continue;
    if (!TolerationsTolerate(tolerations, taint)) return taint;
  }
  return std::nullopt;
}

bool IsDoNotScheduleTaint(const Taint& taint) {
  return taint.effect == "NoSchedule" || taint.effect == "NoExecute";
}

}  // namespace kite::scheduler
