// The discovery documents kubectl and client-go read to learn what the server serves,
// built from a ResourceTable. Each function returns compact JSON, shaped and ordered as
// kube-apiserver 1.32 writes it (field names from k8s.io/apimachinery meta/v1 and
// k8s.io/api apidiscovery/v2).
//
// Which document answers which request:
//   GET /api                 LegacyApiVersions, or AggregatedDiscovery(table, true) when the
//                            Accept header asks for apidiscovery.k8s.io (v2 or v2beta1)
//   GET /apis                ApiGroupList, or AggregatedDiscovery(table, false) likewise
//   GET /api/v1              ApiResourceList(table, "", "v1")
//   GET /apis/<g>            ApiGroup(table, g)
//   GET /apis/<g>/<v>        ApiResourceList(table, g, v)
// An aggregated answer must carry the Content-Type AggregatedContentType(version):
// client-go falls back to the legacy documents when it does not.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>

#include "src/base/status.h"
#include "src/server/resources/resource_table.h"

namespace kite::resources {

// GET /api: {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":
// [{"clientCIDR":"0.0.0.0/0","serverAddress":<server_address>}]}. server_address is
// "host:port" as clients should reach this server.
std::string LegacyApiVersions(std::string_view server_address);

// GET /apis: kind APIGroupList with every group except the core group, in Groups() order.
std::string ApiGroupList(const ResourceTable& table);

// GET /apis/<group>: kind APIGroup. Errors: kNotFound when the table has no resource in
// `group` (or `group` is "", which is served at /api instead).
Result<std::string> ApiGroup(const ResourceTable& table, std::string_view group);

// GET /api/v1 and /apis/<group>/<version>: kind APIResourceList. Each resource is one entry
// and each subresource another ("pods/status"), sorted by name. Errors: kNotFound when the
// table has no resource at group/version.
Result<std::string> ApiResourceList(const ResourceTable& table, std::string_view group,
                                    std::string_view version);

enum class AggregatedVersion { kV2, kV2Beta1 };

// GET /api (legacy_core) or GET /apis (all other groups), aggregated: kind
// APIGroupDiscoveryList of apidiscovery.k8s.io/v2 (or v2beta1: the same shape). Groups in
// Groups() order, versions preferred first, resources sorted by name, every version
// "freshness":"Current". The core group's item has no metadata.name (Kubernetes omits the
// empty name).
std::string AggregatedDiscovery(const ResourceTable& table, bool legacy_core,
                                AggregatedVersion version = AggregatedVersion::kV2);

// "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList" (or v=v2beta1).
std::string_view AggregatedContentType(AggregatedVersion version);

}  // namespace kite::resources
