#include "src/agent/server/websocket_port_forward.h"

#include <memory>
#include <optional>
#include <thread>

#include "src/agent/server/remote_command.h"
#include "src/agent/server/channel_session.h"
#include "src/base/base64.h"
#include "src/server/streaming/spdy_session.h"
#include "src/server/streaming/websocket.h"

namespace kite::agent::server {
namespace {

using streaming::SpdySession;
using streaming::SpdyStream;
using streaming::WebSocketConnection;
using streaming::WebSocketOpcode;

// Go's strconv.ParseUint(s, 10, 16) error text, or nullopt with the value in `port`.
std::optional<std::string> ParseUint16(const std::string& text, uint16_t& port) {
  if (text.empty()) return "strconv.ParseUint: parsing \"\": invalid syntax";
  uint32_t value = 0;
  bool overflow = false;
  for (char c : text) {
    if (c < '0' || c > '9') return "strconv.ParseUint: parsing \"" + text + "\": invalid syntax";
    value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535) {
      overflow = true;
      value = 65535;
    }
  }
  if (overflow) return "strconv.ParseUint: parsing \"" + text + "\": value out of range";
  port = static_cast<uint16_t>(value);
  return std::nullopt;
}

// The runtime's streams for one port; null when opening them failed.
struct PortStreams {
  uint16_t port = 0;
  std::shared_ptr<SpdyStream> error;
  std::shared_ptr<SpdyStream> data;
};

// kubectl's order: the error stream (half-closed, only read), then the data stream.
Result<PortStreams> OpenPort(SpdySession& spdy, uint16_t port, size_t index,
                             std::chrono::milliseconds reply_timeout) {
  PortStreams streams;
  streams.port = port;
  streaming::SpdyHeaders headers = {{"streamtype", "error"},
                                    {"port", std::to_string(port)},
                                    {"requestid", std::to_string(index)}};
  Result<std::shared_ptr<SpdyStream>> error = spdy.OpenStream(headers);
  if (!error.ok()) return error.status();
  streams.error = *error;
  KITE_RETURN_IF_ERROR(streams.error->WaitForReply(reply_timeout));
  (void)streams.error->CloseWrite();
  headers[0].second = "data";
  Result<std::shared_ptr<SpdyStream>> data = spdy.OpenStream(headers);
  if (!data.ok()) return data.status();
  streams.data = *data;
  KITE_RETURN_IF_ERROR(streams.data->WaitForReply(reply_timeout));
  return streams;
}

}  // namespace

Result<std::vector<uint16_t>> ParseWebSocketForwardPorts(
    const std::vector<std::string>& port_values) {
  if (port_values.empty()) return InvalidArgumentError("query parameter \"port\" is required");
  std::vector<uint16_t> ports;
  for (const std::string& value : port_values) {
    if (value.empty()) return InvalidArgumentError("query parameter \"port\" cannot be empty");
    size_t start = 0;
    while (true) {
      size_t comma = value.find(',', start);
      std::string part = value.substr(start, comma == std::string::npos ? comma : comma - start);
      uint16_t port = 0;
      if (std::optional<std::string> bad = ParseUint16(part, port)) {
        return InvalidArgumentError("unable to parse \"" + value + "\" as a port: " + *bad);
      }
      if (port < 1) return InvalidArgumentError("port \"" + value + "\" must be > 0");
      ports.push_back(port);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  if (ports.size() > kMaxWebSocketForwardedPorts) {
    return InvalidArgumentError("at most " + std::to_string(kMaxWebSocketForwardedPorts) +
                                " ports can be forwarded over one WebSocket connection, got " +
                                std::to_string(ports.size()));
  }
  return ports;
}

Result<std::string> ChooseWebSocketPortForwardSubprotocol(
    const std::vector<std::string>& offered) {
  if (offered.empty()) return std::string();
  for (const char* wanted : {kV4ChannelProtocol, kV4Base64ChannelProtocol}) {
    for (const std::string& protocol : offered) {
      if (protocol == wanted) return protocol;
    }
  }
  std::string list;
  for (const std::string& p : offered) list += (list.empty() ? "" : ", ") + p;
  return InvalidArgumentError("requested protocol(s) are not supported: [" + list +
                              "]; supports [" + kV4ChannelProtocol + ", " +
                              kV4Base64ChannelProtocol + "]");
}

void RunWebSocketPortForward(http::UpgradedConnection& client, std::string_view subprotocol,
                             http::UpgradedConnection& runtime,
                             const std::vector<uint16_t>& ports,
                             const WebSocketPortForwardOptions& options) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  const bool base64 = subprotocol == kV4Base64ChannelProtocol;
  WebSocketConnection ws(client, WebSocketConnection::Role::kServer);
  auto send = [&](size_t channel, std::string_view data) { return SendOnChannel(ws, base64, channel, data); };
  auto failure = [&](uint16_t port, const std::string& reason) {
    return "error forwarding port " + std::to_string(port) + " to pod " + options.pod_name +
           ", uid " + options.pod_uid + ": " + reason;
  };

  // Every channel starts with its port, before anything can fail (clients check it first).
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string prefix = {static_cast<char>(ports[i] & 0xff), static_cast<char>(ports[i] >> 8)};
    (void)send(2 * i, prefix);
    (void)send(2 * i + 1, prefix);
  }

  SpdySession spdy(runtime, streaming::SpdySessionOptions{});
  spdy.Start();
  std::vector<PortStreams> streams(ports.size());
  for (size_t i = 0; i < ports.size(); ++i) {
    Result<PortStreams> opened = OpenPort(spdy, ports[i], i, options.reply_timeout);
    if (!opened.ok()) {
      std::string text = failure(
          ports[i], "opening the container runtime's streams: " + opened.status().message());
      log("portForward: " + text);
      (void)send(2 * i + 1, text);
      continue;
    }
    streams[i] = std::move(*opened);
  }

  ClientInputEnd input_end;

  // Per port: the runtime's bytes to the data channel, its error text to the error channel.
  // Once every port has ended, the close frame; then the client's answer (or the grace).
  std::thread finisher([&] {
    std::vector<std::thread> pumps;
    for (size_t i = 0; i < streams.size(); ++i) {
      if (!streams[i].data) continue;
      pumps.emplace_back([&, i] {
        SpdyStream& data = *streams[i].data;
        char buffer[32 * 1024];
        while (size_t n = data.Read(buffer, sizeof(buffer))) {
          if (!send(2 * i, std::string_view(buffer, n))) {
            data.Reset();
            return;
          }
        }
        (void)data.CloseWrite();  // the pod's connection is over: nothing more goes there
      });
      pumps.emplace_back([&, i] {
        std::string text = ReadToEnd(*streams[i].error, 64 * 1024);
        if (!text.empty()) (void)send(2 * i + 1, text);
      });
    }
    for (std::thread& pump : pumps) pump.join();
    (void)ws.SendClose(streaming::kWsCloseNormal);
    // The client did not answer our close: stop waiting for it.
    if (!input_end.WaitFor(options.close_grace)) client.Close();
  });

  // The client's bytes to the data streams; anything on error channels or unknown
  // channels is dropped, as the kubelet does.
  while (true) {
    Result<streaming::WebSocketMessage> message = ws.Read();
    if (!message.ok()) break;
    std::string_view data = message->data;
    if (data.empty()) continue;
    size_t channel = static_cast<uint8_t>(data[0]);
    std::string payload;
    if (message->type == WebSocketOpcode::kText) {
      if (!base64 || channel < '0') continue;
      channel -= '0';
      std::optional<std::string> decoded = Base64Decode(data.substr(1));
      if (!decoded) continue;  // the kubelet skips undecodable frames too
      payload = std::move(*decoded);
    } else {
      if (base64) continue;
      payload.assign(data.substr(1));
    }
    if (payload.empty() || channel % 2 != 0 || channel / 2 >= streams.size()) continue;
    if (std::shared_ptr<SpdyStream>& stream = streams[channel / 2].data) {
      (void)stream->Write(payload);  // false once the pod's side is over: dropped
    }
  }
  input_end.Mark();
  // The client is gone or has closed: end of input for every port, then the session.
  for (PortStreams& port : streams) {
    if (port.data) (void)port.data->CloseWrite();
  }
  spdy.Close();
  finisher.join();
}

}  // namespace kite::agent::server
