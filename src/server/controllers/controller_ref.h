// Controller references (metadata.ownerReferences entries with controller: true) and how a
// controller claims its dependents, as Kubernetes' ControllerRefManager does: a dependent
// that matches the controller's selector and has no controller is adopted (the reference is
// added); one it controls that no longer matches is released (the reference removed); one
// controlled by someone else is left alone. Objects being deleted are never adopted, and a
// controller that is being deleted neither adopts nor releases.
//
// Writes are PUTs of the cached object with its resourceVersion as precondition, so a stale
// cache gives kConflict (the caller's key is retried) instead of a lost update.
//
// Thread-safety: the free functions are pure. A ControllerRefManager is used by one
// Reconcile call (one thread) and then dropped.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/client/informer.h"
#include "src/server/client/resource_client.h"
#include "src/server/selection/label_selector.h"

namespace kite::controllers {

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
};

// The ownerReferences entry with controller: true, or nullopt.
std::optional<OwnerReference> ControllerOf(const rapidjson::Value& object);

// {"apiVersion", "kind", "name", "uid", "controller": true, "blockOwnerDeletion": true} for
// `owner` (what Kubernetes' NewControllerRef builds).
rapidjson::Value NewControllerRef(const rapidjson::Value& owner, std::string_view api_version,
                                  std::string_view kind,
                                  rapidjson::Document::AllocatorType& allocator);

// metadata accessors; "" / 0 / false when absent.
std::string_view NameOf(const rapidjson::Value& object);
std::string_view NamespaceOf(const rapidjson::Value& object);
std::string_view UidOf(const rapidjson::Value& object);
int64_t GenerationOf(const rapidjson::Value& object);
bool IsBeingDeleted(const rapidjson::Value& object);
// Whether metadata.finalizers lists `name`.
bool HasFinalizer(const rapidjson::Value& object, std::string_view name);
// metadata.labels (nullptr when absent).
const rapidjson::Value* LabelsOf(const rapidjson::Value& object);
// The string value of annotation `key`, or nullopt.
std::optional<std::string_view> AnnotationOf(const rapidjson::Value& object, std::string_view key);

// A controller's spec.selector as a LabelSelector. An absent or null selector selects
// nothing. kInvalidArgument for a malformed one.
Result<selection::LabelSelector> SpecSelector(const rapidjson::Value& controller);

class ControllerRefManager {
 public:
  // `controller` is the controller object as cached; `controller_client` reads it fresh
  // before the first adoption (so a controller deleted meanwhile adopts nothing);
  // `dependents` writes the dependents. Both clients must outlive the manager.
  ControllerRefManager(const rapidjson::Value& controller, std::string api_version, std::string kind,
                       selection::LabelSelector selector,
                       const client::ResourceClient* controller_client,
                       const client::ResourceClient* dependents);

  // Adopts and releases among `candidates` (dependents of the controller's namespace) and
  // returns those the controller controls afterwards (adopted ones as the API returned them),
  // in candidate order. Write failures of single dependents do not stop the others; the
  // first one is returned once all were tried (a dependent gone meanwhile is not an error).
  Result<std::vector<client::ObjectPtr>> Claim(const std::vector<client::ObjectPtr>& candidates);

 private:
  Status CanAdopt();
  Result<client::ObjectPtr> Adopt(const rapidjson::Value& dependent);
  Status Release(const rapidjson::Value& dependent);

  const rapidjson::Value& controller_;
  const std::string api_version_;
  const std::string kind_;
  const std::string uid_;
  const selection::LabelSelector selector_;
  const client::ResourceClient* controller_client_;
  const client::ResourceClient* dependents_;
  std::optional<Status> can_adopt_;  // the fresh-read verdict, taken once
};

}  // namespace kite::controllers
