#include "tests/agent/server/channel_forward_client.h"

#include <catch2/catch.hpp>

#include <optional>
#include <thread>

#include "src/agent/server/remote_command.h"
#include "src/base/base64.h"
#include "src/server/streaming/socket_connection.h"
#include "src/server/streaming/websocket.h"

namespace kite::agent::server::testing {
namespace {

using streaming::WebSocketConnection;
using streaming::WebSocketOpcode;

// Base64 payloads decoded by kite's codec; a malformed one fails the test.
std::string Decode(const std::string& text) {
  std::optional<std::string> decoded = Base64Decode(text);
  REQUIRE(decoded.has_value());
  return *decoded;
}

}  // namespace

std::string PortPrefix(int port) {
  return {static_cast<char>(port & 0xff), static_cast<char>((port >> 8) & 0xff)};
}

ChannelForwardResult SpeakChannelPortForward(http::UpgradedConnection& connection,
                                             const std::string& subprotocol, size_t ports,
                                             const std::vector<std::string>& requests) {
  WebSocketConnection ws(connection, WebSocketConnection::Role::kClient);
  const bool base64 = subprotocol == kV4Base64ChannelProtocol;
  ChannelForwardResult result;
  result.data.resize(ports);
  result.errors.resize(ports);
  std::vector<bool> seen(2 * ports, false);
  while (true) {
    Result<streaming::WebSocketMessage> message = ws.Read();
    if (!message.ok()) break;
    REQUIRE_FALSE(message->data.empty());
    int channel = static_cast<uint8_t>(message->data[0]);
    std::string payload = message->data.substr(1);
    if (base64) {
      REQUIRE(message->type == WebSocketOpcode::kText);
      channel -= '0';
      payload = Decode(payload);
    } else {
      REQUIRE(message->type == WebSocketOpcode::kBinary);
    }
    REQUIRE(channel >= 0);
    REQUIRE(static_cast<size_t>(channel) < 2 * ports);
    result.channels_seen.push_back(channel);
    size_t port = static_cast<size_t>(channel) / 2;
    if (!seen[static_cast<size_t>(channel)]) {
      seen[static_cast<size_t>(channel)] = true;
      result.prefixes.resize(2 * ports);
      result.prefixes[static_cast<size_t>(channel)] = payload;
      if (channel % 2 == 0 && port < requests.size() && !requests[port].empty()) {
        char byte = static_cast<char>(base64 ? '0' + channel : channel);
        bool sent = base64 ? ws.SendText(std::string(1, byte) + Base64Encode(requests[port]))
                           : ws.SendBinary(std::string(1, byte) + requests[port]);
        REQUIRE(sent);
      }
      continue;
    }
    (channel % 2 == 0 ? result.data : result.errors)[port] += payload;
  }
  result.closed_normally = ws.peer_close_code() == streaming::kWsCloseNormal;
  return result;
}

ChannelForwardResult RunChannelPortForward(http::UpgradeResponse& upgrade,
                                           const std::string& subprotocol, size_t ports,
                                           const std::vector<std::string>& requests) {
  REQUIRE(upgrade.session);
  // Joined however the client ends (a failed REQUIRE throws).
  struct Runner {
    streaming::SocketPair pair = streaming::MakeSocketPair();
    std::thread session;
    ~Runner() {
      pair.second->Close();
      session.join();
    }
  } runner;
  runner.session = std::thread([&runner, session = upgrade.session] {
    session(*runner.pair.first);
    runner.pair.first->Close();  // as the HTTPS server does when a session returns
  });
  return SpeakChannelPortForward(*runner.pair.second, subprotocol, ports, requests);
}

}  // namespace kite::agent::server::testing
