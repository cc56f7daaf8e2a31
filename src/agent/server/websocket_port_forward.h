// port-forward over WebSocket channels, as the kubelet serves it to the official clients
// (the Python client's kubernetes.stream.portforward), bridged to the container runtime's
// streaming server over SPDY.
//
// Client side: subprotocol v4.channel.k8s.io (binary messages whose first byte is the
// channel) or v4.base64.channel.k8s.io (text messages: the channel as the digit '0' +
// channel, then base64); a client that offers no subprotocol gets binary channels, as from
// the kubelet. The ports come from the query, fixed for the whole connection: port i (in
// query order) has data channel 2*i and error channel 2*i+1. The first message on every
// channel is the port as uint16 little-endian; after that the data channel carries the
// connection's bytes both ways and the error channel, from the server only, a text message
// when forwarding that port failed. Each port is one TCP connection in the pod, opened when
// the WebSocket is; once every port's connection has ended the server closes the WebSocket
// (code 1000). A client cannot half-close a port: closing the WebSocket ends them all.
//
// Runtime side (containerd's portforward.k8s.io over SPDY, as kubectl speaks it): per port
// a stream pair, "streamtype: error" (half-closed at once: nothing is written to it) then
// "streamtype: data", both with headers "port" and "requestid" (the port's index). What
// the runtime writes on the error stream (its own "error forwarding port ..." text) goes to
// the error channel; its FIN on the data stream ends the port.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::agent::server {

// Channel numbers are one byte: two per port.
inline constexpr size_t kMaxWebSocketForwardedPorts = 128;

// The ports a WebSocket port-forward names: every value of the query parameters "port"
// (the kubelet's name, which the API server sends) and "ports" (the API's own), in order,
// each a comma-separated list of decimal ports 1..65535; repeats are kept. Errors
// (kInvalidArgument, the kubelet's wording): none given, an empty value, a port that does
// not parse or is 0, more than kMaxWebSocketForwardedPorts.
Result<std::vector<uint16_t>> ParseWebSocketForwardPorts(
    const std::vector<std::string>& port_values);

// The subprotocol to answer from the client's Sec-WebSocket-Protocol tokens:
// v4.channel.k8s.io, else v4.base64.channel.k8s.io; "" when the client offered none (binary
// channels, no Sec-WebSocket-Protocol in the answer). kInvalidArgument naming what is
// supported when the client offered only others.
Result<std::string> ChooseWebSocketPortForwardSubprotocol(
    const std::vector<std::string>& offered);

struct WebSocketPortForwardOptions {
  std::string pod_name;  // for error texts: "error forwarding port P to pod NAME, uid UID: ..."
  std::string pod_uid;
  std::chrono::milliseconds reply_timeout{30000};  // for the runtime's stream replies
  std::chrono::milliseconds close_grace{5000};     // for the client's close frame
  std::function<void(const std::string&)> log;     // one line per failure; may be empty
};

// Runs one session until every port's connection has ended or the client goes away.
// `client` carries the WebSocket after the 101 with `subprotocol` (one that
// ChooseWebSocketPortForwardSubprotocol returned); `runtime` is an upgraded SPDY connection
// to the runtime's port-forward URL that negotiated portforward.k8s.io. Neither is owned;
// the runtime's is closed on return.
//
// Threads: the caller's (reading the client), one finisher, and two per port. Limits: the
// WebSocket's message size and the SPDY session's buffers. No backpressure per port: a
// runtime stream that does not take the client's bytes stalls every port's upload, as one
// TCP connection would; no idle timeout (the client or the runtime ends the session).
void RunWebSocketPortForward(http::UpgradedConnection& client, std::string_view subprotocol,
                             http::UpgradedConnection& runtime,
                             const std::vector<uint16_t>& ports,
                             const WebSocketPortForwardOptions& options);

}  // namespace kite::agent::server
