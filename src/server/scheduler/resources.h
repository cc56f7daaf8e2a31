// Resource amounts as the scheduler adds and compares them (Kubernetes' framework.Resource):
// cpu in millicores, memory and ephemeral storage in bytes, the pod count, and scalar
// resources (extended resources such as "example.com/gpu", hugepages-*) in units.
//
// PodRequests follows Kubernetes 1.32's resource helper: the sum of the regular
// containers, the max with each init container (sidecars — init containers with
// restartPolicy Always — run alongside and add up), plus spec.overhead. A container without
// an explicit request for a resource it limits requests its limit (API defaulting, applied
// here because objects may arrive without defaults).
//
// Thread-safety: value types and pure functions.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace kite::scheduler {

// The scheduler's "non-zero" request for a container that requests no cpu or memory, so that
// many such pods do not all land on one node (used by scoring only).
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;  // only meaningful for allocatable
  std::map<std::string, int64_t, std::less<>> scalar;

  // Adds a ResourceList JSON object ({"cpu": "100m", "memory": "1Gi"}); unknown names and
  // unparsable quantities are ignored (the API server validates them).
  void AddList(const rapidjson::Value* list);
  void Add(const Resources& other);
  void Subtract(const Resources& other);
  // Each field becomes the larger of the two.
  void SetMax(const Resources& other);
  bool IsZero() const;

  bool operator==(const Resources&) const = default;
};

// Whether `name` is counted as a scalar resource (extended, hugepages-*, attachable-volumes-*,
// or another domain-qualified name), as Kubernetes' IsScalarResourceName.
bool IsScalarResourceName(std::string_view name);

// The pod's effective requests (see the header comment). With `non_zero`, each container that
// lacks a cpu or memory request counts kDefaultMilliCpuRequest / kDefaultMemoryRequest.
Resources PodRequests(const rapidjson::Value& pod, bool non_zero = false);

// status.allocatable of a Node.
Resources NodeAllocatable(const rapidjson::Value& node);

}  // namespace kite::scheduler
