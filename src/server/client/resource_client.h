// The REST verbs on one kind of resource, over an ApiTransport: what controllers, the
// scheduler and agents use instead of hand-built requests. Objects are JSON documents as the
// API serves them.
//
// Errors: the Kubernetes Status of a failed request becomes a kite::Status — NotFound →
// kNotFound, AlreadyExists → kAlreadyExists, Conflict → kConflict, Gone/Expired →
// kCompacted, Invalid and BadRequest → kInvalidArgument, anything else → kUnavailable —
// with the Status message.
// Thread-safety: immutable after construction; any thread may call it.
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/server/client/api_transport.h"

namespace kite::client {

// Where a resource lives in the API: group "" is the core group.
struct ResourceRef {
  std::string group;
  std::string version;
  std::string resource;  // plural, "deployments"
  bool namespaced = true;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // for watch: the list's resourceVersion
  int timeout_seconds = 0;        // watch only; 0 = the server's default
  bool allow_bookmarks = true;
};

enum class PatchType { kMerge, kStrategic, kJson };

class ResourceClient {
 public:
  // `transport` must outlive this client.
  ResourceClient(ApiTransport* transport, ResourceRef ref);

  const ResourceRef& ref() const { return ref_; }

  // `ns` is ignored for cluster-scoped resources; "" lists across namespaces.
  Result<rapidjson::Document> Get(std::string_view ns, std::string_view name) const;
  Result<rapidjson::Document> List(std::string_view ns, const ListOptions& options = {}) const;
  Result<std::unique_ptr<WatchReader>> Watch(std::string_view ns, const ListOptions& options) const;
  Result<rapidjson::Document> Create(std::string_view ns, const rapidjson::Value& object) const;
  // PUT of the whole object; its metadata.resourceVersion is the precondition.
  Result<rapidjson::Document> Update(const rapidjson::Value& object) const;
  Result<rapidjson::Document> UpdateStatus(const rapidjson::Value& object) const;
  Result<rapidjson::Document> Patch(std::string_view ns, std::string_view name, PatchType type,
                                    std::string_view patch, std::string_view subresource = "") const;
  // `options_json` is a DeleteOptions body ("" = none).
  Status Delete(std::string_view ns, std::string_view name, std::string_view options_json = "") const;
  // Deletes every object of the collection (`ns` "" = every namespace).
  Status DeleteCollection(std::string_view ns) const;
  // POST to a subresource (pods/binding, pods/eviction, serviceaccounts/token).
  Result<rapidjson::Document> CreateSubresource(std::string_view ns, std::string_view name,
                                                std::string_view subresource,
                                                const rapidjson::Value& body) const;

  // GET / PUT of a subresource that is an object of its own (deployments/scale: an
  // autoscaling/v1 Scale). The PUT body's metadata.resourceVersion is the precondition.
  Result<rapidjson::Document> GetSubresource(std::string_view ns, std::string_view name,
                                             std::string_view subresource) const;
  Result<rapidjson::Document> UpdateSubresource(std::string_view ns, std::string_view name,
                                                std::string_view subresource,
                                                const rapidjson::Value& body) const;

  // The collection or object path: "/apis/apps/v1/namespaces/ns/deployments[/name[/sub]]".
  std::string PathOf(std::string_view ns, std::string_view name = "",
                     std::string_view subresource = "") const;

 private:
  Result<rapidjson::Document> Send(ClientRequest request) const;

  ApiTransport* transport_;
  ResourceRef ref_;
};

// The error Status for a failed response (see the header comment for the mapping).
Status StatusFromResponse(const ClientResponse& response);

// "a%3Db" — percent-encoding for query values.
std::string QueryEscape(std::string_view value);

}  // namespace kite::client
