// An API group whose objects are computed when asked for, not stored: served by code outside
// the REST handler, as kube-apiserver hands an aggregated APIService (metrics.k8s.io from
// metrics-server) to another server. Kite's metrics API (src/server/metrics/) is one.
//
// The API handler lists Resources() in discovery (both the aggregated /apis form and the
// per-group documents), authenticates and authorizes requests for them like any other, answers
// 405 MethodNotAllowed for a verb a resource does not list and 404 for a namespaced get without
// a namespace, and hands every other request to Serve.
//
// Thread-safety: Resources and Serve are called concurrently from handler threads.
#pragma once

#include <vector>

#include "src/server/apiserver/rest_handler.h"
#include "src/server/http/http_types.h"
#include "src/server/resources/resource_info.h"

namespace kite::apiserver {

class ComputedApi {
 public:
  virtual ~ComputedApi() = default;
  // The resources served, all of one group; constant for the object's life.
  virtual const std::vector<resources::ResourceInfo>& Resources() const = 0;
  // One request for one of them (request.resource points at its entry).
  virtual http::HandlerResult Serve(const RestRequest& request) = 0;
};

}  // namespace kite::apiserver
