// What the API server serves at one moment: the built-in resources plus those of every
// Established CustomResourceDefinition, with what serving a custom resource needs (its
// structural schema and printer columns). A snapshot is immutable; CrdWatcher builds a new
// one whenever a CRD changes and requests keep the snapshot they started with (so a watch
// outlives a swap safely).
//
// Thread-safety: snapshots are immutable; CrdWatcher's methods may be called from any thread.
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "src/base/mutex.h"
#include "src/server/crd/served_versions.h"
#include "src/server/resources/resource_table.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

struct CustomResourceServing {
  std::string crd_name;
  std::shared_ptr<const crd::StructuralSchema> schema;
  std::vector<tables::CustomColumn> columns;
  std::optional<crd::ScaleSubresource> scale;  // set when the version has a scale subresource
  std::shared_ptr<const rapidjson::Document> open_api_v3_schema;  // as the CRD wrote it
};

struct ServedResources {
  resources::ResourceTable table;
  std::map<std::tuple<std::string, std::string, std::string>, CustomResourceServing> custom;

  // The serving of a custom resource, or nullptr for a built-in one.
  const CustomResourceServing* FindCustom(std::string_view group, std::string_view version,
                                          std::string_view resource) const;
};

// The built-in table plus the served versions of the Established CRDs among `crds` (stored
// JSON). A CRD that cannot be served (its names clash with a served resource) is left out,
// with the reason appended to `skipped`.
std::shared_ptr<const ServedResources> BuildServedResources(const std::vector<std::string>& crds,
                                                            std::vector<std::string>* skipped);

// Keeps a ServedResources current with the CRDs in the store: lists them at Start, then
// follows a watch of their prefix (listing again after any watch failure).
class CrdWatcher {
 public:
  static Result<std::unique_ptr<CrdWatcher>> Start(store::KvStore* kv);
  ~CrdWatcher();

  std::shared_ptr<const ServedResources> Current() const;
  // Waits until a CRD change at or before `revision` is being served (tests).
  bool WaitForRevision(int64_t revision, std::chrono::milliseconds timeout) const;

 private:
  explicit CrdWatcher(store::KvStore* kv) : kv_(kv) {}
  // Lists the CRDs and swaps in a new snapshot; returns the revision listed at.
  Result<int64_t> Reload();
  void Run(int64_t from_revision);

  store::KvStore* kv_;
  mutable Mutex mu_;
  mutable CondVar changed_;
  std::shared_ptr<const ServedResources> current_ GUARDED_BY(mu_);
  int64_t revision_ GUARDED_BY(mu_) = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kite::apiserver
