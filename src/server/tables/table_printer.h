// Server-side Table output: the meta.k8s.io/v1 Table that `kubectl get` asks for with
// "Accept: application/json;as=Table;v=v1;g=meta.k8s.io".
//
// BuildTable reproduces the columns and cell text of Kubernetes' built-in printers for the
// built-in kinds, computed from each object's served JSON. Every row carries every column,
// wide ones included (priority 1); kubectl hides those unless run with `-o wide`. Kinds
// without a printer (LimitRange, Role, ClusterRole, CustomResourceDefinition, ...) get the
// default table: Name, and "Created At" (type "date", an RFC 3339 UTC timestamp).
//
// BuildCustomTable serves custom resources from the CRD's additionalPrinterColumns.
//
// Cells follow Kubernetes: strings, integers (JSON numbers), booleans, or null for a custom
// column whose path matched nothing. Pods that succeeded or failed get a row condition
// {"type":"Completed","status":"True"}.
//
// Thread-safety: all functions are safe to call concurrently (they share only immutable
// tables built on first use). Objects are read, never modified; `out` is overwritten.
// Limitations: resource quantities are printed as stored, not re-canonicalized; column
// descriptions are Kite's own short texts, not the Kubernetes field docs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "src/base/status.h"

namespace kite::tables {

// ?includeObject= of the request; Kubernetes defaults to Metadata.
enum class IncludeObject { kNone, kMetadata, kObject };

struct TableOptions {
  bool include_column_definitions = true;  // false for watch events after the first
  IncludeObject include_object = IncludeObject::kMetadata;
  std::chrono::system_clock::time_point now;  // for AGE cells
};

// Parses the includeObject query value: "" or "Metadata", "None", "Object" (case-sensitive,
// as Kubernetes). kInvalidArgument for anything else.
Result<IncludeObject> ParseIncludeObject(std::string_view value);

// Builds a Table for objects of (group, kind), e.g. ("", "Pod"), ("apps", "Deployment").
// `objects` are full objects (apiVersion/kind/metadata); null entries are skipped.
// `list_metadata` (may be null) supplies the table's metadata: resourceVersion, continue and
// remainingItemCount are copied when present. For a single GET pass the object's metadata.
// Each row's "object" is, per options.include_object, null, a PartialObjectMetadata
// ({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{...}}), or a
// copy of the whole object. When include_column_definitions is false, "columnDefinitions"
// is null, as in Kubernetes' watch events after the first.
void BuildTable(std::string_view group, std::string_view kind,
                const std::vector<const rapidjson::Value*>& objects,
                const rapidjson::Value* list_metadata, const TableOptions& options,
                rapidjson::Document& out);

// True when (group, kind) has its own columns rather than the default table.
bool HasBuiltinColumns(std::string_view group, std::string_view kind);

// One additionalPrinterColumns entry of a CRD version.
struct CustomColumn {
  std::string name;
  std::string type;  // integer, number, string, boolean, date (other types give null cells)
  std::string format;
  std::string description;  // empty: a description naming the path is generated
  int32_t priority = 0;
  std::string json_path;  // see column_path.h for the supported subset
};

// The columns of a CRD version that declares none: Age from .metadata.creationTimestamp.
std::vector<CustomColumn> DefaultCustomColumns();

// A Table with a Name column followed by `columns`. Cells by column type: integer -> integer,
// number -> number, boolean -> boolean, date -> age ("5m") of an RFC 3339 string
// ("<invalid>" when unparseable), string -> the value as text (objects and arrays as JSON).
// A path that matches nothing, or a value of the wrong JSON type, gives a null cell.
// Errors: kInvalidArgument when a column's json_path is not in the supported subset
// (`out` is then left untouched).
Status BuildCustomTable(const std::vector<CustomColumn>& columns,
                        const std::vector<const rapidjson::Value*>& objects,
                        const rapidjson::Value* list_metadata, const TableOptions& options,
                        rapidjson::Document& out);

}  // namespace kite::tables
