// ManagedFields: the entries of metadata.managedFields, decoded into field sets and encoded
// back the way the Kubernetes API server writes them.
//
// Entries are keyed by a manager identity, as Kubernetes keys them: manager name, operation
// ("Apply" or "Update"), subresource, and for Update entries the apiVersion too (an applier
// keeps one entry across apiVersions; an updater gets one per apiVersion). The key is the
// identity's JSON text ({"manager":"kubectl","operation":"Update","apiVersion":"apps/v1"}),
// which also gives Kubernetes' order for conflict messages.
//
// Encoded entries are sorted as Kubernetes sorts them: by operation (Apply first), time (in
// seconds; none counts as 0), manager, apiVersion, subresource. Each has, in this order,
// manager, operation, apiVersion, time (when known), fieldsType "FieldsV1", fieldsV1 and
// subresource (when not empty).
//
// Thread-safety: plain values; no shared state.
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "src/base/status.h"
#include "src/server/apply/field_set.h"

namespace kite::apply {

inline constexpr char kOperationApply[] = "Apply";
inline constexpr char kOperationUpdate[] = "Update";

struct ManagedEntry {
  std::string manager;
  std::string operation;    // kOperationApply or kOperationUpdate
  std::string api_version;  // the version the fields are expressed in
  std::string subresource;  // "" or e.g. "status"
  std::optional<std::string> time;  // RFC 3339, as stored
  FieldSet fields;
};

// Entries by identity key (see IdentityKey).
using ManagedFields = std::map<std::string, ManagedEntry>;

// The identity key of a manager; `api_version` is ignored for Apply.
std::string IdentityKey(const std::string& manager, const std::string& operation,
                        const std::string& api_version, const std::string& subresource);
inline std::string IdentityKey(const ManagedEntry& e) {
  return IdentityKey(e.manager, e.operation, e.api_version, e.subresource);
}

// Decodes a metadata.managedFields value (a list of entries). kInvalidArgument with
// Kubernetes' wording for an entry whose operation is not Apply or Update, an empty
// apiVersion, a missing or unknown fieldsType, or a malformed fieldsV1.
Result<ManagedFields> DecodeManagedFields(const rapidjson::Value& list);

// The metadata.managedFields list for `managed` (sorted as described above).
rapidjson::Value EncodeManagedFields(const ManagedFields& managed,
                                     rapidjson::Document::AllocatorType& allocator);

// Keeps at most `max_updaters` Update entries, as Kubernetes does (10): the oldest are merged
// into per-apiVersion "ancient-changes" entries until the count fits.
void CapUpdateManagers(ManagedFields& managed, size_t max_updaters);

// Seconds since the epoch of an RFC 3339 time; 0 when it does not parse.
int64_t UnixSeconds(const std::string& rfc3339);

}  // namespace kite::apply
