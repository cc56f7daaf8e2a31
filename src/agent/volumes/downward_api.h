// The downward API: values of a pod's own fields and of its containers' resources, as env
// values (valueFrom.fieldRef / resourceFieldRef) and downwardAPI volume files show them —
// the kubelet's podFieldSelectorRuntimeValue, pkg/fieldpath ExtractFieldPathAsString and
// pkg/api/v1/resource ExtractContainerResourceValue with the node's allocatable standing in
// for missing limits.
//
// Pure functions of their arguments; thread-safe. Objects may lack defaults (requests absent
// while limits are set count as equal to the limits, as API defaulting would make them).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::agent::volumes {

// What the node can give pods; a missing limit reads as this.
struct NodeAllocatable {
  int64_t cpu_millis = 0;
  int64_t memory_bytes = 0;
  int64_t ephemeral_storage_bytes = 0;
};

// A field for env (fieldRef.fieldPath): metadata.name, metadata.namespace, metadata.uid,
// metadata.labels, metadata.annotations (whole maps as FormatMap prints them),
// metadata.labels['k'], metadata.annotations['k'], spec.nodeName, spec.serviceAccountName,
// status.hostIP(s), status.podIP(s) (from the arguments: the first one, or all joined by
// ","). kInvalidArgument with Kubernetes' wording for anything else
// ("unsupported fieldPath: spec.x", "invalid key subscript in ...").
Result<std::string> PodFieldValue(const rapidjson::Value& pod, std::string_view field_path,
                                  const std::vector<std::string>& pod_ips,
                                  const std::vector<std::string>& host_ips);

// The metadata.* subset, what downwardAPI volume items may name.
Result<std::string> MetadataFieldValue(const rapidjson::Value& pod, std::string_view field_path);

// The container's resource (`resource`: limits.cpu, limits.memory,
// limits.ephemeral-storage, requests.cpu, requests.memory, requests.ephemeral-storage) in
// units of `divisor` ("" or zero = 1), rounded up as Kubernetes does (cpu in milli-units
// before dividing). A missing limit is the node's allocatable. kInvalidArgument for another
// resource ("unsupported container resource : x") or an unparsable quantity.
Result<std::string> ResourceFieldValue(const rapidjson::Value& container, std::string_view resource,
                                       std::string_view divisor, const NodeAllocatable& node);

// The pod's container (regular, init or ephemeral) called `name`; null when none.
const rapidjson::Value* FindContainer(const rapidjson::Value& pod, std::string_view name);

// A label or annotation map as a downward API file shows it: one `key="value"` line per
// entry in key order (values quoted as Go's %q), no trailing newline.
std::string FormatMap(const std::map<std::string, std::string>& entries);

}  // namespace kite::agent::volumes
