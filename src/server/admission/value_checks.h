// Internal to kite_admission: apimachinery's value checks (util/validation) with their exact
// messages, the checks built on them that many kinds share (labels, annotations, label
// selectors, non-negative numbers, int-or-percent), and Go-syntax printing of the values
// Kubernetes' messages embed (%#v of maps, selectors, IntOrString).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/admission/json_fields.h"

namespace kite::admission {

// Each returns the list of problems (empty when valid).
std::vector<std::string> Dns1123LabelErrors(std::string_view value);
std::vector<std::string> Dns1123SubdomainErrors(std::string_view value);
std::vector<std::string> Dns1035LabelErrors(std::string_view value);
std::vector<std::string> QualifiedNameErrors(std::string_view value);
std::vector<std::string> LabelValueErrors(std::string_view value);
std::vector<std::string> PortNameErrors(std::string_view value);  // IANA_SVC_NAME
std::vector<std::string> PortNumErrors(int64_t value);            // 1..65535
// The relaxed rule (printable ASCII but '='), on by default since Kubernetes 1.32.
std::vector<std::string> EnvVarNameErrors(std::string_view value);
std::vector<std::string> ConfigMapKeyErrors(std::string_view value);
std::vector<std::string> PercentErrors(std::string_view value);
bool IsValidIp(std::string_view value);
bool IsValidCidr(std::string_view value);
// "must be between <lo> and <hi>, inclusive"
std::string InclusiveRangeError(int64_t lo, int64_t hi);

constexpr char kIsNegativeErrorMsg[] = "must be greater than or equal to 0";
constexpr char kFieldImmutableErrorMsg[] = "field is immutable";

// apimachinery's ValidateNonnegativeField.
void CheckNonNegative(Causes& causes, const std::string& path, std::optional<int64_t> value);
// IsValidIP / IsValidCIDR as field errors.
void CheckIp(Causes& causes, const std::string& path, std::string_view value);

// metav1 ValidateLabels / ValidateLabelName and apimachinery ValidateAnnotations.
void CheckLabels(Causes& causes, const Value* parent, std::string_view name,
                 const std::string& path);
void CheckLabelName(Causes& causes, const std::string& path, std::string_view key);
void CheckAnnotations(Causes& causes, const Value* parent, std::string_view name,
                      const std::string& path);

// metav1 ValidateLabelSelector (strict label values), at `path`.
void CheckLabelSelector(Causes& causes, const Value* selector, const std::string& path);
// Whether `selector` (a metav1.LabelSelector as JSON) matches the label map; selectors that
// cannot be converted (bad operator, ...) match nothing. `empty` tells whether it has no
// requirements (matches everything).
bool SelectorMatches(const Value* selector, const Value* labels);
bool SelectorIsEmpty(const Value* selector);
// LabelSelectorAsSelector succeeds (operators known, In/NotIn with values, ...).
bool SelectorConvertible(const Value* selector);

// ValidatePositiveIntOrPercent and IsNotMoreThan100Percent (apps validation); the value of
// an IntOrString as getIntOrPercentValue computes it.
void CheckPositiveIntOrPercent(Causes& causes, const IntOrString& v, const std::string& path);
void CheckNotMoreThan100Percent(Causes& causes, const IntOrString& v, const std::string& path);
int64_t IntOrPercentValue(const IntOrString& v);

// Go %#v renderings used inside messages.
std::string GoStringMap(const Value* map);  // map[string]string{"a":"b"} / (nil)
std::string GoStringSlice(const Value* list);  // []string{"a", "b"} / []string(nil)
std::string GoLabelSelector(const Value* selector);  // v1.LabelSelector{...}
std::string GoIntOrString(const IntOrString& v);  // intstr.IntOrString{Type:0, ...}
// A JSON value printed compactly (used where Kubernetes would dump a Go struct).
std::string CompactJson(const Value* value);

}  // namespace kite::admission
