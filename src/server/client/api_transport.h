// How a client reaches the API: one request/response exchange, or a watch stream. Two
// implementations: in process (controllers, the scheduler and the embedded agent of
// `kite server` call the API handler directly, through the same authentication,
// authorization, admission and storage path as an HTTPS request, without TLS or sockets)
// and, for remote agents and `kite sim`, over HTTPS.
//
// Thread-safety: Do and Watch may be called from any thread concurrently. A WatchReader is
// used by one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "src/base/status.h"

namespace kite::client {

struct ClientRequest {
  std::string method = "GET";
  std::string path;   // "/apis/apps/v1/namespaces/default/deployments/web"
  std::string query;  // "labelSelector=app%3Dweb" (already encoded), "" for none
  std::string body;
  std::string content_type = "application/json";
};

struct ClientResponse {
  int status = 0;
  std::string body;
};

// The lines (one JSON watch event each) of a watch response.
class WatchReader {
 public:
  virtual ~WatchReader() = default;
  // Waits up to `timeout` and returns the complete event lines received (empty on timeout).
  // kUnavailable once the stream has ended (server timeout, shutdown) and every line was
  // returned.
  virtual Result<std::vector<std::string>> Next(std::chrono::milliseconds timeout) = 0;
};

class ApiTransport {
 public:
  virtual ~ApiTransport() = default;
  virtual ClientResponse Do(const ClientRequest& request) = 0;
  // Starts a watch (request.query carries watch=true and the rest). A non-200 answer is
  // returned as a complete response in `rejected` form: the Result is an error carrying the
  // Kubernetes Status message, and kCompacted for 410 Gone/Expired.
  virtual Result<std::unique_ptr<WatchReader>> Watch(const ClientRequest& request) = 0;
};

}  // namespace kite::client
