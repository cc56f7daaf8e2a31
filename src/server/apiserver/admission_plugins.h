// Kubernetes' admission plugins that look beyond the object being written — at the cluster's
// other objects in the store — as kube-apiserver runs them around the kind's own defaults
// and validation (src/server/admission/ covers those, object by object):
//   mutating, after the kind's defaults and before its validation:
//     ServiceAccount and DefaultTolerationSeconds (new pods), DefaultStorageClass (new
//     claims), LimitRanger's defaults (new pods);
//   validating, after the kind's validation:
//     LimitRanger's bounds (new pods; claims on create and update), then ResourceQuota
//     (quota_admission.h: refuses what would exceed a quota, charges what it admits).
// The plugins apply to writes of the main resource only (not to subresources).
//
// Thread-safety: the methods may be called concurrently (the store is).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/clock.h"
#include "src/server/quota/quota_admission.h"
#include "src/store/kv_store.h"
#include "src/store/prefix_mirror.h"

namespace kite::apiserver {

// What is being written: a built-in object of group/resource/kind in namespace `ns` ("" for
// cluster-scoped ones).
struct AdmissionAttributes {
  std::string_view group, resource, kind, ns;
  const rapidjson::Value* old = nullptr;  // the stored object on update; null on create
  bool dry_run = false;                   // dryRun=All: check, but charge no quota
  // The namespace's LimitRanges, read by the first plugin call of this write that needs
  // them: Mutate and Refusal both do for a new pod.
  mutable std::optional<std::vector<rapidjson::Document>> limit_ranges;
};

class AdmissionPlugins {
 public:
  // `kv` and `clock` must outlive the plugins.
  AdmissionPlugins(store::KvStore* kv, const Clock* clock);

  void Mutate(const AdmissionAttributes& write, rapidjson::Document& object) const;

  // The validating plugins: the text after `<resource> "<name>" is forbidden: ` when one
  // refuses the write, nullopt when all admit it (and the quotas are charged).
  std::optional<std::string> Refusal(const AdmissionAttributes& write, const rapidjson::Value& object);

 private:
  const std::vector<rapidjson::Document>& LimitRanges(const AdmissionAttributes& write) const;

  store::KvStore* kv_;
  // Read for every new pod; nearly always empty for its namespace.
  mutable store::PrefixMirror limit_ranges_;
  quota::QuotaAdmission quota_;
};

}  // namespace kite::apiserver
