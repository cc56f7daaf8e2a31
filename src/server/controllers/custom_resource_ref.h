// Where controllers list and watch the objects of a CustomResourceDefinition: its group,
// the plural it is served under (status.acceptedNames once accepted, else spec.names), and
// its storage version when served, else its first served version; and the kind its
// objects carry.
//
// Thread-safety: pure functions.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string_view>

#include "src/server/client/resource_client.h"

namespace kite::controllers {

std::string_view CrdGroup(const rapidjson::Value& crd);
std::string_view CrdPlural(const rapidjson::Value& crd);
// status.acceptedNames.kind once accepted, else spec.names.kind.
std::string_view CrdKind(const rapidjson::Value& crd);

// The resource of an Established, namespaced CRD with a served version; nullopt otherwise.
std::optional<client::ResourceRef> CustomResourceOf(const rapidjson::Value& crd);
// The same for every scope: ref.namespaced is false for a Cluster-scoped CRD.
std::optional<client::ResourceRef> ServedCustomResourceOf(const rapidjson::Value& crd);

}  // namespace kite::controllers
