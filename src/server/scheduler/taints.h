// Node taints and pod tolerations (core/v1 Taint and Toleration) and how they match, as
// Kubernetes' Toleration.ToleratesTaint: a toleration with an empty effect matches every
// effect, an empty key with operator Exists matches every taint, operator "" means Equal.
//
// Thread-safety: value types and pure functions.
#pragma once

#include <rapidjson/document.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kite::scheduler {

inline constexpr std::string_view kTaintNodeUnschedulable = "node.kubernetes.io/unschedulable";

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
};

struct Toleration {
  std::string key;
  std::string op;  // "", "Equal", "Exists"
  std::string value;
  std::string effect;  // "" = every effect

  bool Tolerates(const Taint& taint) const;
};

// node.spec.taints; malformed entries are skipped.
std::vector<Taint> ParseTaints(const rapidjson::Value& node);
// pod.spec.tolerations; malformed entries are skipped.
std::vector<Toleration> ParseTolerations(const rapidjson::Value& pod);

bool TolerationsTolerate(const std::vector<Toleration>& tolerations, const Taint& taint);

// The first taint (in node order) that `include` selects and no toleration tolerates.
std::optional<Taint> FindUntoleratedTaint(const std::vector<Taint>& taints,
                                          const std::vector<Toleration>& tolerations,
                                          const std::function<bool(const Taint&)>& include);

// NoSchedule and NoExecute: the effects that keep pods off a node.
bool IsDoNotScheduleTaint(const Taint& taint);

}  // namespace kite::scheduler
