// The OpenAPI v3 documents kube-apiserver serves, derived from the schema registry and the
// resource table:
//   GET /openapi/v3              the discovery root: {"paths": {"api/v1": {"serverRelativeURL":
//                                "/openapi/v3/api/v1?hash=<HASH>"}, "apis/apps/v1": {...}}}
//   GET /openapi/v3/api/v1       one OpenAPI 3.0 document per group version: its paths
//   GET /openapi/v3/apis/<g>/<v> (api_paths.h) and the schemas they refer to (definitions.h),
//                                under components.schemas.
// kubectl 1.32 reads these for `explain`, for client-side apply/diff (strategic merge patch
// keys: the kind's schema is the one whose x-kubernetes-group-version-kind lists it), and
// to decide whether the server validates fields (a PATCH operation of the kind that lists
// the fieldValidation parameter).
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/status.h"
#include "src/server/openapi/custom_resources.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/schema_registry.h"

namespace kite::openapi {

// The key of a group version in the discovery root: "api/v1", "apis/apps/v1".
std::string V3PathKey(std::string_view group, std::string_view version);

// The OpenAPI 3.0 document of one group version, as compact JSON. The table's entries that
// `custom` lists are described as custom resources (crd_schema.h).
// Errors: kNotFound when the table serves nothing in `group`/`version`.
Result<std::string> BuildV3Document(const schema::SchemaRegistry& registry,
                                    const resources::ResourceTable& table,
                                    std::string_view group, std::string_view version,
                                    const CustomResources& custom = {});

// The discovery root from (path key, hash of that document) pairs, in their order.
std::string BuildV3Root(const std::vector<std::pair<std::string, std::string>>& key_hashes);

}  // namespace kite::openapi
