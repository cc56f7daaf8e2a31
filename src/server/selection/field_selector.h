// Field selectors (the `fieldSelector` query parameter) and the table of fields each resource
// lets clients select on.
//
// Syntax (apimachinery/pkg/fields/selector.go): comma-separated terms `field=value`,
// `field==value` or `field!=value`, all of which must hold. In values, a backslash escapes
// `\`, `,`, `=` (and `!`, see below); an unescaped `,` ends the term and an unescaped `=`
// in a value is an error. Field names are not trimmed or escaped.
//
// Every field has a string value computed from the object, as Kubernetes' GetAttrs /
// ToSelectableFields compute it from the internal (Go) object: strings as they are, bools
// "true"/"false", integers in decimal, and for a missing field the Go zero value of its
// type ("" for strings, "false" for spec.unschedulable, "0" for status.replicas). A few
// fields are derived (pods' status.podIP, events' source); see SupportedFieldSelectors().
//
// Deliberate difference from Kubernetes: `\!` is accepted as an escaped `!` (Kubernetes
// rejects it as an invalid escape sequence). Everything Kubernetes accepts is parsed the same.
//
// Thread-safety: FieldSet and FieldSelector are immutable after construction; const methods
// may be called concurrently. The FieldSets returned by SupportedFieldSelectors() live for
// the whole program.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "src/base/status.h"

namespace kite::selection {

// The value at a dotted JSON path ("spec.nodeName", "status.podIPs.0.ip": a numeric segment
// indexes an array), as a selector compares it: strings as is, bools "true"/"false",
// integers in decimal. nullopt when the path is absent or leads to null, an object or an
// array.
std::optional<std::string> FieldValueAtPath(const rapidjson::Value& object,
                                            std::string_view dotted_path);

// The fields one resource supports in field selectors, how each is read from an object, and
// which message rejects any other field.
class FieldSet {
 public:
  // The wording Kubernetes uses to reject an unsupported field; it depends on whether the
  // kind registers its own field-label conversion.
  enum class Rejection {
    // `"x" is not a known field selector: only "metadata.name", "metadata.namespace"`
    // (runtime.DefaultMetaV1FieldSelectorConversion, for kinds without their own).
    kMetadataOnly,
    // `field label not supported: x` (core kinds, certificates, events, custom resources).
    kNotSupported,
    // `field label "x" not supported for <Kind>` (batch/v1 Job).
    kNotSupportedForKind,
  };

  struct Field {
    std::string name;  // the selector's field label, e.g. "spec.nodeName"
    // Dotted JSON paths tried in order; the first with a non-empty value gives the value.
    std::vector<std::string> paths;
    std::string missing_value;  // when no path has a value: the Go zero value of the field

    std::string ValueOf(const rapidjson::Value& object) const;
  };

  explicit FieldSet(Rejection rejection, std::string kind = {})
      : rejection_(rejection), kind_(std::move(kind)) {}

  // The default set for a resource without its own: metadata.name and metadata.namespace.
  static FieldSet MetadataOnly();
  // A custom resource: metadata.name, metadata.namespace when namespaced, and the CRD's
  // selectableFields given as dotted paths without the leading '.' ("spec.color").
  static FieldSet CustomResource(bool namespaced, const std::vector<std::string>& selectable);

  // Adds a field read at the JSON path equal to its name.
  FieldSet& Add(std::string name, std::string missing_value = {});
  // Adds a field read from the first of `paths` with a non-empty value.
  FieldSet& AddRead(std::string name, std::vector<std::string> paths,
                    std::string missing_value = {});
  // Makes `alias` another name for the already added field `target` (pods' spec.host).
  FieldSet& AddAlias(std::string alias, std::string target);

  // The field a selector label names (aliases resolved), or nullptr when unsupported.
  const Field* Find(std::string_view name) const;
  // Kubernetes' message rejecting `name` for this resource.
  std::string UnsupportedMessage(std::string_view name) const;
  // The supported labels (aliases excluded), sorted.
  std::vector<std::string> Names() const;

 private:
  Rejection rejection_;
  std::string kind_;
  std::map<std::string, Field, std::less<>> fields_;
  std::map<std::string, std::string, std::less<>> aliases_;
};

// The field selectors a built-in resource supports, as kube-apiserver 1.32 does (its
// field-label conversion functions and GetAttrs). `group` is "" for the core group;
// `resource` is the lowercase plural ("pods"). Resources not listed get MetadataOnly().
// Notable Kubernetes facts reproduced here:
//  - pods: spec.hostNetwork is "false" when absent; status.podIP is status.podIP, else the
//    first status.podIPs[].ip; status.podIPs is accepted but Kubernetes never fills it in
//    the field set, so its value is always "" (`status.podIPs=<ip>` matches nothing);
//    spec.host is an alias of spec.nodeName.
//  - nodes and namespaces reject metadata.namespace; nodes' spec.unschedulable is "false"
//    when absent.
//  - events (core) and events.k8s.io events: source is source.component, else the
//    reporting controller. Both tables read either JSON shape (core `involvedObject`,
//    `source`, `reportingComponent` or events.k8s.io `regarding`, `deprecatedSource`,
//    `reportingController`), so they work whichever version the object is stored in.
//  - apps/v1 replicasets: Kubernetes registers no conversion, so status.replicas is rejected
//    ("is not a known field selector") although its GetAttrs computes it.
//  - jobs: status.successful is status.succeeded ("0" when absent).
const FieldSet& SupportedFieldSelectors(std::string_view group, std::string_view resource);

class FieldSelector {
 public:
  enum class Operator { kEquals, kNotEquals };  // "=" and "==" are both kEquals

  struct Requirement {
    FieldSet::Field field;  // the resolved field (its canonical name when given an alias)
    Operator op = Operator::kEquals;
    std::string value;  // unescaped
  };

  // The empty selector: matches everything.
  FieldSelector() = default;
  static FieldSelector Everything() { return FieldSelector(); }

  // Parses `text` and resolves each field against `supported`. "" gives Everything().
  // Errors (kInvalidArgument, Kubernetes' messages; the API server answers 400):
  //  - a term without an operator: `invalid selector: '<text>'; can't understand '<term>'`
  //  - a bad value: `invalid field selector: invalid escape sequence: \x`, or
  //    `invalid field selector: unescaped character in value: 61` (Go prints the rune code)
  //  - an unsupported field: FieldSet::UnsupportedMessage, e.g.
  //    `field label not supported: spec.foo`.
  // Syntax errors are reported before unsupported fields; terms are checked in sorted order.
  static Result<FieldSelector> Parse(std::string_view text, const FieldSet& supported);

  // Whether every requirement holds for `object` (the object's JSON).
  bool Matches(const rapidjson::Value& object) const;

  bool Empty() const { return requirements_.empty(); }

  // The (field, value) pairs of the `=`/`==` terms, in selector order. Every matching object
  // has exactly these values, so a caller may use one to narrow a lookup before calling
  // Matches: metadata.name=X (a single get), metadata.namespace=X (one namespace),
  // spec.nodeName=X (a node's pods).
  std::vector<std::pair<std::string, std::string>> EqualityRequirements() const;
  // The value an `=`/`==` term requires for `field`, if there is one (Kubernetes'
  // RequiresExactMatch).
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;

  // Canonical form: terms in sorted order, `field=value` / `field!=value`, values escaped.
  std::string ToString() const;

  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

// Escapes `\`, `,` and `=` in a value (Kubernetes' fields.EscapeValue).
std::string EscapeFieldValue(std::string_view value);

}  // namespace kite::selection
