// PodInfo: what the scheduler needs from a Pod, parsed once — its requests, host ports,
// tolerations, and inter-pod affinity terms — next to the object it came from. Every pod
// the scheduler knows (pending ones and those bound to nodes) is held as a PodInfoPtr.
//
// Thread-safety: immutable after Parse; shared between threads through PodInfoPtr.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "src/base/status.h"
#include "src/server/scheduler/resources.h"
#include "src/server/scheduler/taints.h"
#include "src/server/selection/label_selector.h"

namespace kite::scheduler {

using ObjectPtr = std::shared_ptr<const rapidjson::Document>;

// The labels of a namespace by name (nullptr when unknown or unlabelled); the object that
// holds them is returned to keep them alive.
using NamespaceLookup = std::function<ObjectPtr(std::string_view ns)>;

struct PodInfo;

// A pod (anti-)affinity term resolved against its owner pod: the namespaces it covers
// (explicit names, or the owner's namespace when neither names nor a selector are given) and
// the namespace selector (Nothing when absent).
struct AffinityTerm {
  selection::LabelSelector selector = selection::LabelSelector::Nothing();
  std::set<std::string, std::less<>> namespaces;
  selection::LabelSelector namespace_selector = selection::LabelSelector::Nothing();
  std::string topology_key;

  // Whether `pod` is selected: in one of the namespaces (or one whose labels the namespace
  // selector matches, looked up through `namespaces_of`) and matching the label selector.
  bool Matches(const PodInfo& pod, const NamespaceLookup& namespaces_of) const;
};

struct WeightedAffinityTerm {
  AffinityTerm term;
  int64_t weight = 0;
};

struct HostPort {
  std::string ip = "0.0.0.0";
  std::string protocol = "TCP";
  int32_t port = 0;
  bool operator<(const HostPort& o) const {
    return std::tie(port, protocol, ip) < std::tie(o.port, o.protocol, o.ip);
  }
  bool operator==(const HostPort&) const = default;
};

struct PodInfo {
  ObjectPtr object;
  std::string key;  // namespace/name
  std::string ns;
  std::string name;
  std::string uid;
  std::string node_name;       // spec.nodeName (or the node it is assumed on)
  std::string scheduler_name;  // spec.schedulerName, "" when absent
  std::string phase;
  std::string controller_uid;  // the ownerReference with controller: true
  const rapidjson::Value* labels = nullptr;  // metadata.labels inside `object`
  bool terminating = false;                  // metadata.deletionTimestamp set
  bool scheduling_gated = false;             // spec.schedulingGates not empty
  bool preemption_never = false;             // spec.preemptionPolicy: Never
  int32_t priority = 0;

  Resources requests;
  Resources non_zero_requests;  // with the scoring defaults for unset cpu/memory
  std::vector<HostPort> host_ports;
  std::vector<Toleration> tolerations;

  std::vector<AffinityTerm> required_affinity;
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<WeightedAffinityTerm> preferred_affinity;
  std::vector<WeightedAffinityTerm> preferred_anti_affinity;
  // The first malformed affinity term, "" when all parsed (bad terms are left out).
  std::string parse_error;

  bool HasAffinity() const {
    return !required_affinity.empty() || !required_anti_affinity.empty() || !preferred_affinity.empty() ||
           !preferred_anti_affinity.empty();
  }
  // Succeeded or Failed: no longer occupies its node.
  bool Terminal() const { return phase == "Succeeded" || phase == "Failed"; }

  // Parses a Pod object (which must be a JSON object; missing fields take their defaults).
  static std::shared_ptr<const PodInfo> Parse(ObjectPtr pod);
  // A copy placed on `node` (an assumed binding).
  std::shared_ptr<const PodInfo> OnNode(std::string node) const;
};

using PodInfoPtr = std::shared_ptr<const PodInfo>;

// A metav1.LabelSelector JSON value plus Kubernetes' matchLabelKeys / mismatchLabelKeys:
// each listed key the pod has a label for adds `key in (value)` (or `key notin (value)`).
// A null or absent `selector` selects nothing. kInvalidArgument for a malformed selector.
Result<selection::LabelSelector> SelectorWithLabelKeys(const rapidjson::Value* selector,
                                                       const rapidjson::Value* match_label_keys,
                                                       const rapidjson::Value* mismatch_label_keys,
                                                       const rapidjson::Value* pod_labels);

}  // namespace kite::scheduler
