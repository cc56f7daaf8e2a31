// LabelSelector: Kubernetes label selectors, parsed from the `labelSelector` query string
// syntax or from a metav1.LabelSelector object, and matched against metadata.labels.
//
// String syntax (apimachinery/pkg/labels/selector.go): comma-separated requirements, all of
// which must hold:
//   key            the label exists          !key           the label does not exist
//   key=v, key==v  equal                     key!=v         not equal (or label absent)
//   key in (a,b)   one of                    key notin (a,b) none of (or label absent)
//   key>5, key<5   integer comparison (label absent or not an integer: no match)
// Whitespace around tokens is ignored. Keys and values are validated as Kubernetes does;
// a bad selector gives kInvalidArgument whose message is Kubernetes' (for example
// `unable to parse requirement: <nil>: Invalid value: "a_": name part must ...`).
//
// Special selectors: Everything() (the empty selector; also what "" parses to and what an
// empty metav1.LabelSelector `{}` means) matches every object; Nothing() (a null
// metav1.LabelSelector) matches none.
//
// Thread-safety: immutable after construction; const methods may be called concurrently.
// A LabelSelector is a small value type (copyable, movable).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "src/base/status.h"

namespace kite::selection {

class LabelSelector {
 public:
  enum class Operator {
    kEquals,        // "="
    kDoubleEquals,  // "=="
    kNotEquals,     // "!="
    kIn,            // "in"
    kNotIn,         // "notin"
    kExists,        // bare key
    kDoesNotExist,  // "!key"
    kGreaterThan,   // ">"
    kLessThan,      // "<"
  };

  struct Requirement {
    std::string key;
    Operator op = Operator::kExists;
    // One value for =, ==, !=, >, <; one or more for in/notin; none for exists/!exists.
    std::vector<std::string> values;

    bool Matches(const rapidjson::Value* labels) const;
    // Kubernetes' Requirement.String(): "k=v", "k in (a,b)", "!k", ...
    std::string ToString() const;
  };

  // The empty selector: matches everything.
  LabelSelector() = default;

  static LabelSelector Everything() { return LabelSelector(); }
  static LabelSelector Nothing();

  // Parses the string syntax. "" (or only whitespace) gives Everything(). Requirements are
  // sorted by key, as Kubernetes does. Errors: kInvalidArgument.
  static Result<LabelSelector> Parse(std::string_view text);

  // From a metav1.LabelSelector JSON object: {"matchLabels": {k: v}, "matchExpressions":
  // [{"key", "operator": In|NotIn|Exists|DoesNotExist, "values": [...]}]}. A JSON null gives
  // Nothing(); an object with no requirements gives Everything(). (An absent selector field
  // means Nothing(): the caller passes that itself.) Errors: kInvalidArgument for a
  // malformed object, an unknown operator, bad keys/values, values given to Exists or
  // missing for In.
  static Result<LabelSelector> FromJson(const rapidjson::Value& selector);

  // From a plain map selector, as in a Service's or ReplicationController's spec.selector:
  // each member is an equality requirement. Null or {} gives Everything() (Kubernetes'
  // SelectorFromSet); callers for which an empty map means "select nothing" (a Service)
  // must check that themselves. Values are not validated, as in Kubernetes. Errors:
  // kInvalidArgument when it is not an object of strings.
  static Result<LabelSelector> FromSet(const rapidjson::Value& map);

  // Whether an object with these labels is selected. `labels` is metadata.labels, or
  // nullptr when the object has none; a non-object is treated as no labels, and a
  // non-string label value as an absent label.
  bool Matches(const rapidjson::Value* labels) const;
  // Reads metadata.labels from `object` and calls Matches.
  bool MatchesObject(const rapidjson::Value& object) const;

  // True when the selector matches everything (no requirements). False for Nothing().
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool IsNothing() const { return nothing_; }

  // The canonical form, Kubernetes' Selector.String(): requirements sorted by key, values of
  // in/notin sorted, joined by ",". Both Everything() and Nothing() print as "" (as in
  // Kubernetes); use IsNothing() to tell them apart.
  std::string ToString() const;

  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  bool nothing_ = false;
  std::vector<Requirement> requirements_;  // sorted by key (stable)
};

}  // namespace kite::selection
