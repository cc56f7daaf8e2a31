// ServedVersionsOf: what serving a CRD's custom resources needs, one entry per served
// version: discovery (ResourceInfo), table columns, the compiled schema and the
// subresources.
//
// Names come from status.acceptedNames when the CRD has been accepted (what Kubernetes
// serves), else from spec.names. Every version gets the 8 standard verbs; the status
// subresource (get/patch/update, the parent's kind) and the scale subresource
// (autoscaling/v1 Scale) as the version declares them; storageVersionHash is computed from
// the storage version, as Kubernetes does for all versions of a CRD.
// Printer columns: the version's additionalPrinterColumns, or Age when it declares none.
// Columns whose jsonPath uses JSONPath features the table printer does not support
// (filters, wildcards; see tables/column_path.h) are left out rather than failing the
// whole table.
// Cost: every call compiles the served versions' schemas; callers cache the result per CRD
// resourceVersion.
// Thread-safety: pure function; the returned schemas are immutable and shareable.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "src/base/status.h"
#include "src/server/crd/structural_schema.h"
#include "src/server/resources/resource_info.h"
#include "src/server/tables/table_printer.h"

namespace kite::crd {

// The scale subresource's JSON paths (".spec.replicas"); label_selector_path may be empty.
struct ScaleSubresource {
  std::string spec_replicas_path;
  std::string status_replicas_path;
  std::string label_selector_path;
};

struct ServedVersion {
  std::string name;  // "v1"
  bool storage = false;
  bool deprecated = false;
  std::string deprecation_warning;  // empty: Kubernetes' default warning applies
  resources::ResourceInfo info;
  std::vector<tables::CustomColumn> printer_columns;
  std::shared_ptr<const StructuralSchema> schema;
  // The version's schema.openAPIV3Schema as written (for the /openapi documents).
  std::shared_ptr<const rapidjson::Document> open_api_v3_schema;
  bool status_subresource = false;
  std::optional<ScaleSubresource> scale;
};

// kInvalidArgument when the CRD lacks what serving needs (group, names, versions) or a
// served version's schema does not compile; run ValidateCrd first to get field-level causes.
Result<std::vector<ServedVersion>> ServedVersionsOf(const rapidjson::Value& crd);

}  // namespace kite::crd
