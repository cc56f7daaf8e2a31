// Internal to kite_admission: the defaults Kubernetes' core/v1 defaulting functions give a
// pod spec and everything in it (SetDefaults_PodSpec, _Container, _Probe, _HTTPGetAction,
// _Volume and the volume sources, _ObjectFieldSelector, _ResourceList, the declarative
// port protocol), shared by Pods and every workload's pod template.
// Functions mutate the given JSON in place, never fail, and skip wrong-typed fields.
#pragma once

#include <string>

#include "src/server/admission/json_fields.h"

namespace kite::admission {

// A PodSpec (as found in a Pod or a template).
void DefaultPodSpec(Value& spec, Allocator& a);

// A PodTemplateSpec: metadata as Kubernetes 1.32 serializes an empty one
// ({"creationTimestamp": null}) and the spec defaults.
void DefaultPodTemplateSpec(Value& template_spec, Allocator& a);

// A Pod: the spec defaults plus what only Pods get — SetDefaults_Pod (requests copied from
// limits, enableServiceLinks, host ports under hostNetwork), the Priority admission plugin's
// priority 0 / PreemptLowerPriority when no class is named, and the pod strategy's initial
// status (phase Pending, qosClass) when the status has no phase yet.
void DefaultPod(Value& pod, Allocator& a);

// A ResourceList: every quantity rounded up to milli and written in canonical form
// ("0.5" -> "500m"); unparsable entries are left for validation.
void DefaultResourceList(Value& list, Allocator& a);

// A PersistentVolumeClaimSpec: volumeMode Filesystem.
void DefaultPersistentVolumeClaimSpec(Value& spec, Allocator& a);

// "Always" when the image's tag is latest (or it has neither tag nor digest), else
// "IfNotPresent" (also for unparsable references), as SetDefaults_Container decides.
std::string DefaultPullPolicy(std::string_view image);

// The pod's QoS class from its (defaulted) containers' cpu/memory requests and limits.
std::string PodQosClass(const Value& spec);

}  // namespace kite::admission
