// What exec/attach (remote_command) and port-forward (websocket_port_forward) over a
// WebSocket share, as the kubelet serves them: channel-prefixed messages, a runtime stream
// read to its end, and the wait for the client's answer to our close frame.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "src/base/mutex.h"
#include "src/server/streaming/spdy_session.h"
#include "src/server/streaming/websocket.h"

namespace kite::agent::server {

// Sends `data` on `channel`: a binary message whose first byte is the channel, or, under
// the base64 subprotocols, a text message with the channel as a digit and the data
// base64-encoded. False once the connection is over.
bool SendOnChannel(streaming::WebSocketConnection& ws, bool base64, size_t channel, std::string_view data);

// A runtime stream's bytes until it ends, keeping at most `limit` of them.
std::string ReadToEnd(streaming::SpdyStream& stream, size_t limit);

// The end of the client's input. The reading loop marks it when the client has closed or
// gone; the side that sent our close frame waits for that, for a grace period.
class ClientInputEnd {
 public:
  void Mark() EXCLUDES(mu_);
  // True when marked within `grace`.
  bool WaitFor(std::chrono::milliseconds grace) EXCLUDES(mu_);

 private:
  Mutex mu_;
  CondVar changed_;
  bool marked_ GUARDED_BY(mu_) = false;
};

}  // namespace kite::agent::server
