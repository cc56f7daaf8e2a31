// How API objects live in the KvStore.
//
// Key:   /registry/<group, or "core">/<resource>/<namespace>/<name>   (namespaced)
//        /registry/<group, or "core">/<resource>/<name>               (cluster-scoped)
// Value: the object's compact JSON with apiVersion, kind and metadata as its first members
//        and without metadata.resourceVersion: the store's mod revision IS the resource
//        version, and is spliced in when the object is read. Keeping the value free of it
//        means a write needs no second pass once the revision is known, and reads need no
//        parse: list and watch copy bytes.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace kite::apiserver {

std::string ObjectKey(std::string_view group, std::string_view resource,
                      std::string_view namespace_name, std::string_view name);
// The prefix of every object of a resource in one namespace ("" = every namespace, and
// the only choice for cluster-scoped resources). Ends with '/'.
std::string CollectionPrefix(std::string_view group, std::string_view resource,
                             std::string_view namespace_name);

// Encodes `object` for storage: drops metadata.resourceVersion, moves apiVersion, kind and
// metadata to the front. `object` must be a JSON object with an object `metadata`.
std::string EncodeForStorage(rapidjson::Document& object);

// A random (version 4) UUID: metadata.uid of a new object.
std::string NewUid();
// Five random characters of the alphabet Kubernetes uses for generateName suffixes (no
// vowels, no look-alikes).
std::string RandomNameSuffix();

// The stored bytes with metadata.resourceVersion = `revision`, ready to send.
std::string WithResourceVersion(std::string_view stored, int64_t revision);
// Appends the same to `out` (list and watch building).
void AppendWithResourceVersion(std::string& out, std::string_view stored, int64_t revision);

}  // namespace kite::apiserver
