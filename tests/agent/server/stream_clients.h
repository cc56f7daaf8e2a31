// Test clients that speak to the agent's handler as kubectl does: a request with the
// upgrade headers and a verified peer, then the session of the handler's UpgradeResponse run
// on one end of a socketpair while the client speaks WebSocket channels or SPDY on the
// other. Aborts the test (REQUIRE) on protocol surprises.
#pragma once

#include <string>
#include <vector>

#include "src/agent/server/remote_command.h"
#include "src/server/http/http_types.h"

namespace kite::agent::server::testing {

// A request from the API server's identity (CN kube-apiserver-kubelet-client).
http::Request MakeRequest(std::string method, std::string path, std::string query,
                          http::HeaderList headers);
http::Request WebSocketRequest(std::string path, std::string query,
                               std::string protocols = "v5.channel.k8s.io, v4.channel.k8s.io");
http::Request SpdyRequest(std::string path, std::string query, std::string protocol);

struct ExecResult {
  std::vector<int> channels_seen;  // channel of every message, in order
  std::string stdout_data;
  std::string stderr_data;
  std::string status;  // the error channel's content
  bool closed_normally = false;  // a close frame with 1000 ended it
};

// WebSocket exec/attach: sends `resize` on channel 4 when set, `stdin_data` on channel 0
// (after an empty opening message, as kubectl does), then with `close_stdin` (v5 only) the
// close signal [255, 0]; reads until the server closes.
ExecResult RunWebSocketExec(http::UpgradeResponse& upgrade, const std::string& subprotocol,
                            const std::string& stdin_data, bool close_stdin,
                            const std::string& resize = "");
// The same client over a connection that is already upgraded (e.g. TLS to a real server).
// Single-threaded: reads and writes happen on the calling thread only.
ExecResult SpeakWebSocketExec(http::UpgradedConnection& connection,
                              const std::string& subprotocol, const std::string& stdin_data,
                              bool close_stdin, const std::string& resize = "");

// WebSocket (v5) attach: sends `stdin_data`, reads until stdout holds `until`, then
// closes the connection as a user detaching does.
ExecResult RunWebSocketAttach(http::UpgradeResponse& upgrade, const std::string& stdin_data,
                              const std::string& until);

// SPDY exec/attach (kubectl's fallback): streams error, stdin (when `stdin_data` is set),
// stdout, stderr; stdin is half-closed after the data.
ExecResult RunSpdyExec(http::UpgradeResponse& upgrade, const RemoteCommandOptions& options,
                       const std::string* stdin_data);

struct ForwardResult {
  std::string data;   // what came back on the data stream
  std::string error;  // what came back on the error stream
};

// Port-forward: for each of `requests`, one forwarded connection (error and data streams
// with port and requestID headers, kubectl's order) that writes the request, half-closes
// and reads the answer until the far end closes. `tunneled`: SPDY inside WebSocket.
std::vector<ForwardResult> RunPortForward(http::UpgradeResponse& upgrade, bool tunneled,
                                          int port, const std::vector<std::string>& requests);

}  // namespace kite::agent::server::testing
