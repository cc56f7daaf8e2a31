// Kubernetes' DefaultStorageClass admission plugin (plugin/pkg/admission/storage/
// storageclass/setdefault) and the default-class lookup it shares with the PV controller's
// retroactive assignment (pkg/volume/util GetDefaultClass).
//
// A class is a default when its annotation storageclass.kubernetes.io/is-default-class (or
// the beta storageclass.beta.kubernetes.io/is-default-class) is "true". With several, the
// newest (creationTimestamp) wins, then the name that sorts first.
//
// Pure functions; thread-safe.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace kite::admission {

inline constexpr char kIsDefaultClassAnnotation[] = "storageclass.kubernetes.io/is-default-class";
inline constexpr char kBetaIsDefaultClassAnnotation[] = "storageclass.beta.kubernetes.io/is-default-class";

bool IsDefaultStorageClass(const rapidjson::Value& storage_class);

// The name of the default class among `classes` (StorageClass objects), "" when none is.
std::string DefaultStorageClassName(const std::vector<const rapidjson::Value*>& classes);

// The plugin, for a PersistentVolumeClaim being created: when it names no class (neither
// spec.storageClassName — an explicit "" counts as naming one — nor the beta
// volume.beta.kubernetes.io/storage-class annotation) and a default class exists, sets
// spec.storageClassName to it. Returns whether it did.
bool AdmitDefaultStorageClass(rapidjson::Value& claim, const std::vector<const rapidjson::Value*>& classes,
                              rapidjson::Document::AllocatorType& allocator);

}  // namespace kite::admission
