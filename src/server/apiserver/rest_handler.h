// The REST verbs on stored resources: create, get, list, watch, update, patch, delete and
// deletecollection, plus the subresources every stored kind shares (status, scale) and
// pods/binding. One handler serves every resource; what differs between kinds comes from
// the resource table and the schema registry, not from per-kind handlers.
//
// Concurrency: Serve is called concurrently from the HTTPS server's worker threads; the
// handler holds no mutable state of its own (the store serializes writes, and optimistic
// concurrency on resource versions resolves races as Kubernetes does: 409 Conflict for a
// stale precondition, silent retry for unconditional updates and patches).
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/server/apiserver/api_error.h"
#include "src/server/apiserver/content_types.h"
#include "src/server/apiserver/request_info.h"
#include "src/server/apiserver/served_resources.h"
#include "src/server/apiserver/service_allocator.h"
#include "src/server/apiserver/watch_stream.h"
#include "src/server/http/http_types.h"
#include "src/server/patch/strategic_schema.h"
#include "src/server/resources/resource_info.h"
#include "src/server/apiserver/admission_plugins.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

class KubeletClient;  // kubelet_client.h

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

struct RestRequest {
  const http::Request* http = nullptr;
  RequestInfo info;
  QueryParams query;
  const resources::ResourceInfo* resource = nullptr;
  // For a custom resource: its schema and columns (null for built-in ones).
  const CustomResourceServing* custom = nullptr;
  // Keeps `resource` and `custom` alive for as long as the request (or its watch) runs.
  std::shared_ptr<const ServedResources> served;
  UserInfo user;
};

struct RestDependencies {
  store::KvStore* kv = nullptr;
  Clock* clock = nullptr;
  WatchTicker* ticker = nullptr;
  ProtobufDecoder protobuf;
  // Merge keys for strategic merge patch; null or a null result means "merge like JSON".
  std::function<const patch::StrategicSchema*(std::string_view group, std::string_view version,
                                              std::string_view kind)>
      strategic_schema;
  // Cluster IPs and node ports for Services; null = Services get none (unit tests).
  ServiceAllocator* services = nullptr;
  // Reaches node agents for pods/log, exec, attach and portforward (node_proxy.h); null =
  // those answer 503.
  KubeletClient* kubelet = nullptr;
  // Events (core and events.k8s.io) expire this long after their last create, update or
  // patch (a TTL on the store key, as Kubernetes leases them in etcd); zero = never.
  std::chrono::milliseconds event_ttl{std::chrono::hours(1)};
};

class RestHandler {
 public:
  explicit RestHandler(RestDependencies deps);

  http::HandlerResult Serve(const RestRequest& request);

 private:
  http::HandlerResult Create(const RestRequest& r);
  http::HandlerResult Get(const RestRequest& r);
  http::HandlerResult List(const RestRequest& r);
  http::HandlerResult Watch(const RestRequest& r);
  http::HandlerResult Update(const RestRequest& r);
  http::HandlerResult Patch(const RestRequest& r);
  http::HandlerResult Delete(const RestRequest& r);
  http::HandlerResult DeleteCollection(const RestRequest& r);
  http::HandlerResult Binding(const RestRequest& r);
  http::HandlerResult Scale(const RestRequest& r);

  // Creates `object` (already decoded) as the create verb does.
  http::HandlerResult CreateObject(const RestRequest& r, rapidjson::Document object);
  // Reads the current object, asks `mutate` for the desired one and writes it with
  // optimistic concurrency; see the .cc for the retry rules.
  using Mutation = std::function<ApiResult<rapidjson::Document>(const rapidjson::Value& current)>;
  http::HandlerResult WriteUpdate(const RestRequest& r, const Mutation& mutate,
                                  const std::string& precondition);
  http::HandlerResult WriteUpdateOnce(const RestRequest& r, const Mutation& mutate,
                                      const std::string& precondition,
                                      std::vector<std::string>& warnings);
  http::HandlerResult CreateValidated(const RestRequest& r, rapidjson::Document object);
  // What every write of an object passes after the generic checks: the kind's defaults and
  // validation, and the allocations some kinds need (Service cluster IPs and node ports).
  // `old` is the stored object on update, null on create.
  std::optional<ApiError> Admit(const RestRequest& r, rapidjson::Document& object,
                                const rapidjson::Value* old);
  // Deletes the object now, or marks it for deletion when finalizers or a grace period
  // hold it back.
  http::HandlerResult DeleteOne(const RestRequest& r, const std::string& name,
                                const rapidjson::Value& options, bool respond);
  // Namespace deletion: the first DELETE sets deletionTimestamp and phase Terminating (the
  // namespace controller empties it and removes "kubernetes" from spec.finalizers); the
  // namespace goes once spec.finalizers and metadata.finalizers are both empty.
  http::HandlerResult DeleteNamespace(const RestRequest& r, const std::string& name);
  // PUT (or PATCH) namespaces/{name}/finalize: sets spec.finalizers.
  http::HandlerResult FinalizeNamespace(const RestRequest& r);

  RestDependencies deps_;
  AdmissionPlugins plugins_;
};

// A complete JSON response.
http::Response JsonResponse(int status, std::string body);
http::Response ErrorResponse(const ApiError& error);

}  // namespace kite::apiserver
