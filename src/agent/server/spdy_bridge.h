// Relaying a client's SPDY session to the container runtime's, stream for stream: how the
// agent serves port-forward (kubectl's streams "streamtype: error|data, port, requestid")
// and SPDY exec/attach (streams "streamtype: error|stdin|stdout|stderr|resize") through
// containerd's streaming server, which speaks the same protocols.
//
// Operation: every stream the client opens is opened on the runtime's session with the
// same headers; once the runtime replies, the client's stream is replied to and bytes flow
// both ways, each direction on its own thread. A half-close (FIN) and a reset are passed
// on as such; a stream the runtime refuses is reset on the client's side. When the runtime
// ends its session (an exec finished: containerd resets its streams and closes) the
// client's session is closed once what the runtime sent has been relayed; when the client
// goes away, the runtime's session is closed.
//
// Threads: the caller's (accepting streams), one watcher, and two per stream pair (reaped
// as they finish). Limits: the sessions' (SpdySession); a stream waits `reply_timeout` for
// the runtime's reply.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "src/server/http/http_types.h"

namespace kite::agent::server {

struct SpdyBridgeOptions {
  std::chrono::milliseconds reply_timeout{30000};
  std::function<void(const std::string&)> log;  // one line per failure; may be empty
};

// Runs until both sessions are over. `client` is the upgraded connection from kubectl (this
// side is the SPDY server), `runtime` the upgraded connection to the runtime's streaming
// server (this side is the SPDY client). Neither is owned; both are closed on return.
void BridgeSpdySessions(http::UpgradedConnection& client, http::UpgradedConnection& runtime,
                        const SpdyBridgeOptions& options);

}  // namespace kite::agent::server
