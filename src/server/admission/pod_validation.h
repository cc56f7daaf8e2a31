// Internal to kite_admission: Kubernetes' pod validation (pkg/apis/core/validation) over
// JSON — PodSpec and everything in it, PodTemplateSpec (what every workload embeds), Pod
// create/update/status rules — with Kubernetes' field paths and messages.
// Pure functions; they only append to the given Causes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "src/server/admission/json_fields.h"
#include "src/server/admission/quantity.h"

namespace kite::admission {

struct PodSpecOptions {
  // The spec belongs to a Pod (not a template): host ports must equal container ports
  // under hostNetwork, as Kubernetes' ResourceIsPod option decides.
  bool resource_is_pod = false;
};

// ValidatePodSpec: `spec` at `path` ("spec" or "spec.template.spec").
void ValidatePodSpec(Causes& causes, const Value& spec, const std::string& path,
                     const PodSpecOptions& options);

// ValidatePodTemplateSpec: labels and annotations (at <path>.labels / <path>.annotations,
// as Kubernetes reports them), the spec, and no ephemeral containers. `tmpl` may be null
// (an absent template is validated as an empty one).
void ValidatePodTemplateSpec(Causes& causes, const Value* tmpl, const std::string& path);

// A Pod on create (old == nullptr) or update, or a status write.
void ValidatePodObject(Causes& causes, const Value& pod, const Value* old,
                       std::string_view subresource);

// A resource.Quantity field: nullopt when absent; wrong types and unparsable text are
// reported at `path`.
std::optional<Quantity> GetQuantity(Causes* causes, const Value* parent, std::string_view name,
                                    const std::string& path);

// ValidateResourceQuantityValue: non-negative, and an integer for integer resources.
void CheckResourceQuantityValue(Causes& causes, std::string_view resource, const Quantity& q,
                                const std::string& path);

// ValidateTolerations, shared with anything that carries tolerations.
void ValidateTolerations(Causes& causes, const Value* tolerations, const std::string& path);

}  // namespace kite::admission
