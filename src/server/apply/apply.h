// Server-side apply: field ownership (metadata.managedFields) and apply conflicts, as the
// Kubernetes 1.32 API server computes them (structured-merge-diff v4 and the apiserver's
// field manager). A pure library over JSON objects: no store, no HTTP.
//
// Every write records who set what. A field manager (the request's fieldManager, e.g.
// "kubectl", "kube-controller-manager") owns the fields it set: an apply owns what its
// configuration names; any other write (create, update, patch) owns what it changed. The
// sets are stored per manager in metadata.managedFields, one entry per manager identity:
// (manager, "Apply", subresource) for appliers, (manager, "Update", apiVersion, subresource)
// for the rest (see managed_fields.h for the encoding, field_set.h for fieldsV1).
//
// Apply(live, config):
// - The configuration is merged into the live object (value_ops.h: maps and structs merge,
//   associative lists merge by key, sets by value, the rest is replaced).
// - Fields the applier owned by its previous apply and no longer names are removed from the
//   object unless some manager (applier or updater) still owns them.
// - A field the apply changes (added or given another value) that another manager owns is a
//   conflict; the same value is no conflict (ownership is then shared). With force the field
//   is taken from the others instead.
// - The applier now owns exactly what its configuration names. Fields the apply removed are
//   taken from everyone.
// - If the object does not change, it is returned as it was; managedFields change only if
//   the ownership did, and then without a new time.
// - An object with no managedFields (written before fields were tracked) first has all its
//   fields attributed to an Update entry "before-first-apply", as Kubernetes does.
// - For the manager "kubectl" (kubectl apply --server-side), client-side apply interop: a
//   conflict on a field whose live value still equals the one in the object's
//   kubectl.kubernetes.io/last-applied-configuration annotation is forgiven (the apply is
//   forced), and that annotation, when present, is rewritten to the new configuration.
// TrackUpdate(before, after): the manager now owns what it changed (its earlier fields are
// kept); others lose what it changed or removed.
//
// Never recorded: apiVersion, kind, and metadata's name, namespace, uid, resourceVersion,
// generation, creationTimestamp, selfLink, clusterName, managedFields (Kubernetes'
// stripMeta list; deletionTimestamp and the rest of metadata are tracked).
//
// Left to the caller: checking the configuration's apiVersion and kind against the request
// (Kubernetes: 400 "invalid object type"), its name against the URL, a resourceVersion it
// names (a precondition), and the kind's update preparation after the merge (immutable
// metadata, generation, validation). The caller's ApplyScope says which top-level fields a
// write may touch; fields outside it are neither applied nor owned.
//
// Kite-specific approximations (Kite's schema is the strategic merge patch schema, not
// OpenAPI): see value_shape.h for how list and map semantics are derived, and Compare in
// value_ops.h for how "absent" stands in for the zero values of typed objects.
//
// Limits: configurations and objects may nest at most FieldSet::kMaxDepth (256) levels; the
// walks recurse along the values. Work is about linear in the objects' sizes (times a log
// factor for the ordered field sets).
//
// Thread-safety: free functions with no shared state; the schema must be safe to read
// concurrently.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/patch/strategic_schema.h"
#include "src/server/validation/field_causes.h"

namespace kite::apply {

// Who writes.
struct ManagerIdentity {
  std::string manager;      // fieldManager, e.g. "kubectl"; "" is recorded as "unknown"
  std::string api_version;  // the request's group/version, e.g. "apps/v1"
  std::string subresource;  // "" or "status"
  std::string time;         // RFC 3339 seconds, e.g. "2026-11-24T10:00:00Z"
};

// Which top-level fields a write may touch (Kubernetes' "reset fields" of the kind's
// strategy, which the field manager ignores):
// - the main resource of a kind with a status subresource neither sets nor owns `status`;
// - a write through the status subresource sets and owns only `status` and `metadata`
//   (Kubernetes resets `spec`; Kite's /status handler keeps everything else as it was);
// - otherwise everything.
struct ApplyScope {
  bool has_status_subresource = false;
  bool status_subresource = false;  // the write goes through /status

  static ApplyScope MainResource(bool has_status_subresource) { return {has_status_subresource, false}; }
  static ApplyScope StatusSubresource() { return {true, true}; }
  // Whether the write may set and own the top-level field `name`.
  bool Allows(std::string_view name) const;
};

// A field another manager owns and the apply would change.
struct FieldConflict {
  std::string manager;      // "kube-controller-manager"
  std::string api_version;  // the owner's entry's apiVersion
  std::string field;        // ".spec.replicas", ".spec.template.spec.containers[name=\"app\"].image"
  std::string operation = "Update";  // the owner's entry: "Update" or "Apply"
  std::string subresource;           // the owner's entry's subresource
  bool operator==(const FieldConflict&) const = default;
};

struct ApplyOutcome {
  rapidjson::Document object;
  // Sorted by owner, then field. Non-empty only without force; `object` is then unspecified
  // and the caller answers 409 (ConflictMessage, ConflictCause).
  std::vector<FieldConflict> conflicts;
};

// Applies `applied` (the configuration, already YAML → JSON) as `who`. `live` is the current
// object (nullptr: it does not exist yet, this apply creates it). `schema` gives list and map
// semantics (nullptr: objects merge, lists are atomic). The returned object carries the
// updated metadata.managedFields.
// kInvalidArgument for a configuration that cannot be applied: not an object, metadata not an
// object, metadata.managedFields set ("metadata.managedFields must be nil"), nesting deeper
// than the limit, and what AppliedFieldSet rejects (duplicate keys in an associative list,
// an item without its key, a non-list value for a list field, ...).
// kInternal when the live object's managedFields cannot be decoded.
Result<ApplyOutcome> Apply(const rapidjson::Value* live, const rapidjson::Value& applied,
                           const ManagerIdentity& who, bool force,
                           const patch::StrategicSchema* schema, const ApplyScope& scope);

// For every write that is not an apply (create, update, patch): records in
// after.metadata.managedFields what `who` changed from `before` (nullptr on create) to
// `after`, as its Update entry (time set when it changed something), and takes those fields
// and the removed ones from the other managers.
// The managedFields the write starts from follow Kubernetes:
// - through a subresource, always those of `before` (the request cannot set them);
// - if `after` sets metadata.managedFields to [] or [{}], none: the list is reset, and (the
//   object existing already) no new entries are made, so the field disappears;
// - if `after` carries a valid non-empty list, that list (the client replaced it);
// - otherwise (absent, or not decodable) those of `before`.
// An existing object (before has a uid) without managedFields stays untracked.
// kInvalidArgument when `after` is not an object or nests deeper than the limit.
Status TrackUpdate(const rapidjson::Value* before, rapidjson::Document& after,
                   const ManagerIdentity& who, const patch::StrategicSchema* schema,
                   const ApplyScope& scope);

// "Apply failed with 1 conflict: conflict with \"mgr\" using apps/v1: .spec.replicas", and
// for several: "Apply failed with 2 conflicts: conflicts with \"a\" using apps/v1:\n- .x\n- .y"
// (owners sorted as Kubernetes sorts them). An owner is printed as "\"name\"", plus
// " with subresource \"status\"" for a subresource entry, plus " using <apiVersion>" for an
// Update entry.
std::string ConflictMessage(const std::vector<FieldConflict>& conflicts);

// The StatusCause of one conflict: reason "FieldManagerConflict", message
// "conflict with \"mgr\" using apps/v1", field ".spec.replicas".
validation::StatusCause ConflictCause(const FieldConflict& conflict);

}  // namespace kite::apply
