// ControllerRevisions: the template history StatefulSets and DaemonSets keep (Kubernetes'
// pkg/controller/history). A revision is an apps/v1 ControllerRevision owned (controller
// reference) by its StatefulSet or DaemonSet; its `data` is the strategic merge patch
// {"spec":{"template":{..., "$patch":"replace"}}} that puts its pod template back on the
// owner (what `kubectl rollout undo` sends), `revision` its number in the owner's history.
// Pods carry the revision they were made from in the controller-revision-hash label.
//
// The helpers here are shared by both controllers: building revision data, the name hash,
// equality and ordering of revisions, and the two writes (create with name-collision
// handling, renumber).
//
// Thread-safety: the free functions are pure, or (the writes) only call the thread-safe
// ResourceClient.
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

namespace kite::controllers {

// On pods (and on DaemonSet revisions): the revision a pod was made from. For StatefulSets
// its value is the revision's name, for DaemonSets the template hash.
inline constexpr std::string_view kControllerRevisionHashLabel = "controller-revision-hash";
// On StatefulSet revisions: the hash their name was made from (history's
// ControllerRevisionHashLabel).
inline constexpr std::string_view kRevisionDataHashLabel = "controller.kubernetes.io/hash";
// The longest owner-name prefix of a revision name (253 minus room for the hash).
inline constexpr size_t kMaxRevisionPrefix = 223;

// The revision data for `owner` (a StatefulSet or DaemonSet): {"spec":{"template":T}} with
// T its spec.template plus "$patch":"replace". Members are sorted by name at every level, as
// Go's encoding of a map is, so equal templates give byte-equal data.
rapidjson::Document TemplateRevisionData(const rapidjson::Value& owner);

// The pod template `revision` restores: data.spec.template without "$patch"; an empty
// object when the revision holds none.
rapidjson::Document RevisionTemplate(const rapidjson::Value& revision);

// history.HashControllerRevision: 32-bit FNV-1 over the data (canonical JSON) and then the
// decimal collision count, printed in decimal and mapped onto Kubernetes' safe alphabet
// "bcdfghjklmnpqrstvwxz2456789" (e.g. "7b9f5c8d4"). Not bit-identical to Kubernetes (which
// hashes its own serialization), but equally stable.
std::string HashRevisionData(const rapidjson::Value& data, std::optional<int32_t> collision_count);

// "<prefix>-<hash>", the prefix cut to kMaxRevisionPrefix characters.
std::string ControllerRevisionName(std::string_view prefix, std::string_view hash);

// The revision's `revision` number (0 when absent or malformed).
int64_t RevisionNumber(const rapidjson::Value& revision);

// The two revisions restore the same thing: their data are semantically equal (absent,
// null, {} and [] alike).
bool EqualRevision(const rapidjson::Value& a, const rapidjson::Value& b);

// Those of `revisions` equal to `revision`, in the given order.
std::vector<client::ObjectPtr> FindEqualRevisions(const std::vector<client::ObjectPtr>& revisions,
                                                  const rapidjson::Value& revision);

// Oldest first: by revision number, then creationTimestamp, then name.
void SortRevisions(std::vector<client::ObjectPtr>& revisions);

// The highest revision number among `revisions` (0 for none).
int64_t MaxRevisionNumber(const std::vector<client::ObjectPtr>& revisions);

// A revision of `parent` (not yet created): labels `labels` (the template's, may be
// nullptr) plus kRevisionDataHashLabel, a controller reference to the parent, `data`,
// revision number `number`, named ControllerRevisionName(parent name, hash of data and
// collision count).
rapidjson::Document NewControllerRevision(const rapidjson::Value& parent, std::string_view api_version,
                                          std::string_view kind, const rapidjson::Value* labels,
                                          const rapidjson::Value& data, int64_t number,
                                          std::optional<int32_t> collision_count);

// Creates `revision` (from NewControllerRevision) in `parent_namespace`, named after the
// hash of its data and *collision_count. When that name is taken by a revision with equal
// data, that one is returned; when by different data, *collision_count is incremented and
// the next name tried (history.CreateControllerRevision). Errors: the API's (a taken name
// is not one); kInternal after 64 collisions in a row.
Result<client::ObjectPtr> CreateControllerRevision(const client::ResourceClient& revisions,
                                                   std::string_view parent_namespace, std::string_view parent_name,
                                                   const rapidjson::Value& revision, int32_t* collision_count);

// Writes `revision` (as cached; its resourceVersion is the precondition) with revision
// number `number` and returns it as the API did; no write when it already has that number.
Result<client::ObjectPtr> SetRevisionNumber(const client::ResourceClient& revisions, const client::ObjectPtr& revision,
                                            int64_t number);

}  // namespace kite::controllers
