// exec and attach over WebSocket, as kubectl 1.32 and the official clients speak them,
// bridged to the container runtime's streaming server over SPDY.
//
// Client side (Kubernetes' "channel.k8s.io" WebSocket subprotocols): every binary message
// starts with a channel byte — 0 stdin, 1 stdout, 2 stderr, 3 error (the final
// metav1.Status as JSON), 4 resize ({"Width":..,"Height":..}); v5.channel.k8s.io adds
// channel 255, "close": the payload is the channel that will carry no more data (kubectl
// sends [255, 0] at the end of its stdin). The base64 variants send text messages whose
// first character is the channel digit and whose rest is standard base64 with padding
// (src/base/base64.h).
//
// Runtime side: containerd 1.6 serves exec/attach over WebSocket only up to
// v4.channel.k8s.io, which cannot end stdin without ending the session; over SPDY
// (X-Stream-Protocol-Version v4.channel.k8s.io) every channel is a stream and stdin ends
// with a FIN, which containerd passes on to the process (`cat` sees end of input). So the
// agent speaks SPDY to the runtime: streams "streamtype: error" (always), "stdin",
// "stdout", "stderr" (not with a TTY) and "resize" (with a TTY), in kubectl's order.
// containerd writes the command's Status on the error stream (v4 format, which is also
// v5's), resets every stream and closes; the agent forwards the Status on channel 3 after
// all output, then closes the WebSocket (code 1000).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "src/server/http/http_types.h"

namespace kite::agent::server {

inline constexpr char kV5ChannelProtocol[] = "v5.channel.k8s.io";
inline constexpr char kV4ChannelProtocol[] = "v4.channel.k8s.io";
inline constexpr char kV4Base64ChannelProtocol[] = "v4.base64.channel.k8s.io";

// Channel numbers.
inline constexpr uint8_t kStdinChannel = 0;
inline constexpr uint8_t kStdoutChannel = 1;
inline constexpr uint8_t kStderrChannel = 2;
inline constexpr uint8_t kErrorChannel = 3;
inline constexpr uint8_t kResizeChannel = 4;
inline constexpr uint8_t kCloseChannel = 255;

struct RemoteCommandOptions {
  bool stdin_open = false;
  bool stdout_open = true;
  bool stderr_open = true;  // forced off with a TTY
  bool tty = false;
};

// The subprotocol to answer from the client's list (Sec-WebSocket-Protocol tokens):
// v5.channel.k8s.io, else v4.channel.k8s.io, else v4.base64.channel.k8s.io; "" when none is
// offered.
std::string ChooseRemoteCommandSubprotocol(const std::vector<std::string>& offered);

// A metav1.Status for a failure the agent itself hit, as JSON: status Failure, reason
// InternalError, code 500, `message` as the message.
std::string FailureStatusJson(std::string_view message);

struct RemoteCommandSessionOptions {
  std::chrono::milliseconds reply_timeout{30000};     // for the runtime's stream replies
  std::chrono::milliseconds close_grace{5000};        // for the client's close frame
  std::function<void(const std::string&)> log;        // may be empty
};

// Runs one session until the command ends or the client goes away. `client` carries the
// WebSocket after the 101 with `subprotocol`; `runtime` is an upgraded SPDY connection to the
// runtime's exec or attach URL that negotiated v4.channel.k8s.io. Neither is owned.
void RunWebSocketRemoteCommand(http::UpgradedConnection& client, std::string_view subprotocol,
                               http::UpgradedConnection& runtime,
                               const RemoteCommandOptions& command,
                               const RemoteCommandSessionOptions& options);

}  // namespace kite::agent::server
