// ApiTransport that calls the API server's handler in this process. Requests carry the
// identity given (as if it came from a verified client certificate), so RBAC, admission and
// storage treat them exactly as the same request over HTTPS.
#pragma once

#include <string>
#include <vector>

#include "src/server/client/api_transport.h"
#include "src/server/http/http_types.h"

namespace kite::client {

class InProcessTransport final : public ApiTransport {
 public:
  // `handler` must outlive this transport and every reader it returns.
  InProcessTransport(http::Handler* handler, std::string user, std::vector<std::string> groups);

  ClientResponse Do(const ClientRequest& request) override;
  Result<std::unique_ptr<WatchReader>> Watch(const ClientRequest& request) override;

 private:
  http::Request ToHttp(const ClientRequest& request) const;

  http::Handler* handler_;
  http::PeerIdentity identity_;
};

}  // namespace kite::client
