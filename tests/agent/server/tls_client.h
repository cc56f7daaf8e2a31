// A minimal HTTPS client for tests of the agent's endpoint: TLS to 127.0.0.1:<port> with an
// optional client certificate, one request, and — after a 101 — the TLS stream as an
// UpgradedConnection. OpenSSL's SSL object is not safe for a reader and a writer thread at
// once, so the connection must be used from one thread (the WebSocket exec client is).
#pragma once

#include <memory>
#include <string>

#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::agent::server::testing {

struct TlsResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;  // for non-101 answers with Content-Length
  std::unique_ptr<http::UpgradedConnection> upgraded;  // after 101
};

// `ca_pem` verifies the server (its certificate must name 127.0.0.1); `cert_pem`/`key_pem`
// are the client certificate ("" = none). `request_head` is the whole request up to and
// including the blank line.
Result<TlsResponse> TlsRequest(int port, const std::string& ca_pem, const std::string& cert_pem,
                               const std::string& key_pem, const std::string& request_head);

}  // namespace kite::agent::server::testing
