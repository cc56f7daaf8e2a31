// The Swagger 2.0 document kube-apiserver serves at GET /openapi/v2: every path of every
// served group version (api_paths.h) and the definitions they refer to (definitions.h),
// with "$ref" written directly in properties, as Kubernetes writes v2.
//
// This builds the JSON form; openapi_v2_proto.h converts it to the protobuf form kubectl
// 1.32 and Helm ask for (application/com.github.proto-openapi.spec.v2@v1.0+protobuf:
// kubectl explain --output=plaintext-openapiv2, and client-side apply/diff or validation
// when the v3 documents do not answer). See openapi_service.h.
//
// Thread-safety: pure function of its arguments.
#pragma once

#include <string>

#include "src/server/openapi/custom_resources.h"
#include "src/server/resources/resource_table.h"
#include "src/server/schema/schema_registry.h"

namespace kite::openapi {

// The whole Swagger 2.0 document, as compact JSON. The table's entries that `custom` lists
// are described as custom resources (crd_schema.h).
std::string BuildV2Document(const schema::SchemaRegistry& registry,
                            const resources::ResourceTable& table,
                            const CustomResources& custom = {});

}  // namespace kite::openapi
