// The key → bytes contents of ConfigMaps and Secrets as the API serves them (Secret data and
// ConfigMap binaryData are base64 in JSON), shared by env (envFrom, configMapKeyRef,
// secretKeyRef), the volume plugins and image pull secrets.
//
// Pure functions; thread-safe. Values of the wrong JSON type, and base64 that does not
// decode, are skipped (the API server validated them on write).
#pragma once

#include <rapidjson/document.h>

#include <map>
#include <string>

namespace kite::agent::volumes {

using KeyValues = std::map<std::string, std::string>;

// A ConfigMap's `data`, plus its `binaryData` decoded when `with_binary` (env uses `data`
// only, as the kubelet does; volumes use both).
KeyValues ConfigMapData(const rapidjson::Value& config_map, bool with_binary);

// A Secret's `data`, decoded.
KeyValues SecretData(const rapidjson::Value& secret);

}  // namespace kite::agent::volumes
