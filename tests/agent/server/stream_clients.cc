#include "tests/agent/server/stream_clients.h"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <thread>

#include "src/base/base64.h"
#include "src/server/streaming/socket_connection.h"
#include "src/server/streaming/spdy_session.h"
#include "src/server/streaming/websocket.h"

namespace kite::agent::server::testing {
namespace {

using streaming::SpdySession;
using streaming::SpdyStream;
using streaming::WebSocketConnection;

std::string ReadAll(SpdyStream& stream) {
  std::string out;
  char buffer[8192];
  while (size_t n = stream.Read(buffer, sizeof(buffer))) out.append(buffer, n);
  return out;
}

// Runs the upgrade's session on one end of a socketpair for the life of the object.
class SessionRunner {
 public:
  explicit SessionRunner(http::UpgradeResponse& upgrade)
      : pair_(streaming::MakeSocketPair()) {
    REQUIRE(upgrade.session);
    thread_ = std::thread([this, session = upgrade.session] {
      session(*pair_.first);
      pair_.first->Close();  // as the HTTPS server does when a session returns
    });
  }
  ~SessionRunner() {
    pair_.second->Close();
    thread_.join();
  }
  streaming::SocketConnection& client() { return *pair_.second; }

 private:
  streaming::SocketPair pair_;
  std::thread thread_;
};

}  // namespace

http::Request MakeRequest(std::string method, std::string path, std::string query,
                          http::HeaderList headers) {
  http::Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.query = std::move(query);
  request.target = request.path + (request.query.empty() ? "" : "?" + request.query);
  request.headers = std::move(headers);
  request.peer.has_verified_certificate = true;
  request.peer.common_name = "kube-apiserver-kubelet-client";
  request.peer.organizations = {"system:masters"};
  request.remote_address = "127.0.0.1:40000";
  return request;
}

http::Request WebSocketRequest(std::string path, std::string query, std::string protocols) {
  return MakeRequest("GET", std::move(path), std::move(query),
                     {{"connection", "Upgrade"},
                      {"upgrade", "websocket"},
                      {"sec-websocket-version", "13"},
                      {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
                      {"sec-websocket-protocol", std::move(protocols)}});
}

http::Request SpdyRequest(std::string path, std::string query, std::string protocol) {
  return MakeRequest("POST", std::move(path), std::move(query),
                     {{"connection", "Upgrade"},
                      {"upgrade", "SPDY/3.1"},
                      {"x-stream-protocol-version", std::move(protocol)}});
}

ExecResult RunWebSocketExec(http::UpgradeResponse& upgrade, const std::string& subprotocol,
                            const std::string& stdin_data, bool close_stdin,
                            const std::string& resize) {
  SessionRunner runner(upgrade);
  return SpeakWebSocketExec(runner.client(), subprotocol, stdin_data, close_stdin, resize);
}

ExecResult SpeakWebSocketExec(http::UpgradedConnection& connection,
                              const std::string& subprotocol, const std::string& stdin_data,
                              bool close_stdin, const std::string& resize) {
  WebSocketConnection ws(connection, WebSocketConnection::Role::kClient);
  const bool base64 = subprotocol == kV4Base64ChannelProtocol;
  ExecResult result;
  if (!resize.empty()) REQUIRE(ws.SendBinary(std::string(1, '\x04') + resize));
  if (!stdin_data.empty()) {
    REQUIRE(ws.SendBinary(std::string(1, '\0')));  // kubectl opens stdin with an empty message
    REQUIRE(ws.SendBinary(std::string(1, '\0') + stdin_data));
  }
  if (close_stdin) REQUIRE(ws.SendBinary(std::string("\xff\x00", 2)));
  while (true) {
    Result<streaming::WebSocketMessage> message = ws.Read();
    if (!message.ok()) break;
    REQUIRE_FALSE(message->data.empty());
    int channel = static_cast<uint8_t>(message->data[0]);
    std::string payload = message->data.substr(1);
    if (base64) {
      REQUIRE(message->type == streaming::WebSocketOpcode::kText);
      channel -= '0';
      std::optional<std::string> decoded = Base64Decode(payload);
      REQUIRE(decoded.has_value());
      payload = std::move(*decoded);
    }
    result.channels_seen.push_back(channel);
    if (channel == kStdoutChannel) result.stdout_data += payload;
    if (channel == kStderrChannel) result.stderr_data += payload;
    if (channel == kErrorChannel) result.status += payload;
  }
  result.closed_normally = ws.peer_close_code() == streaming::kWsCloseNormal;
  return result;
}

ExecResult RunWebSocketAttach(http::UpgradeResponse& upgrade, const std::string& stdin_data,
                              const std::string& until) {
  SessionRunner runner(upgrade);
  WebSocketConnection ws(runner.client(), WebSocketConnection::Role::kClient);
  REQUIRE(ws.SendBinary(std::string(1, '\0') + stdin_data));
  ExecResult result;
  while (result.stdout_data.find(until) == std::string::npos) {
    Result<streaming::WebSocketMessage> message = ws.Read();
    if (!message.ok()) break;
    REQUIRE_FALSE(message->data.empty());
    int channel = static_cast<uint8_t>(message->data[0]);
    result.channels_seen.push_back(channel);
    if (channel == kStdoutChannel) result.stdout_data += message->data.substr(1);
    if (channel == kErrorChannel) result.status += message->data.substr(1);
  }
  (void)ws.SendClose();
  // The agent answers the close (and ends its side); drain until it does.
  while (ws.Read().ok()) {
  }
  result.closed_normally = ws.peer_close_code() == streaming::kWsCloseNormal;
  return result;
}

ExecResult RunSpdyExec(http::UpgradeResponse& upgrade, const RemoteCommandOptions& options,
                       const std::string* stdin_data) {
  SessionRunner runner(upgrade);
  SpdySession spdy(runner.client(), streaming::SpdySessionOptions{});
  spdy.Start();
  auto open = [&](const char* type) {
    auto stream = spdy.OpenStream({{"streamtype", type}});
    REQUIRE(stream.ok());
    REQUIRE((*stream)->WaitForReply(std::chrono::seconds(10)).ok());
    return *stream;
  };
  std::shared_ptr<SpdyStream> error = open("error");
  std::shared_ptr<SpdyStream> in, out, err;
  if (stdin_data) in = open("stdin");
  if (options.stdout_open) out = open("stdout");
  if (options.stderr_open) err = open("stderr");
  if (in) {
    REQUIRE(in->Write(*stdin_data));
    REQUIRE(in->CloseWrite());
  }
  ExecResult result;
  std::thread err_reader([&] {
    if (err) result.stderr_data = ReadAll(*err);
  });
  if (out) result.stdout_data = ReadAll(*out);
  result.status = ReadAll(*error);
  err_reader.join();
  spdy.WaitUntilEnded();
  return result;
}

std::vector<ForwardResult> RunPortForward(http::UpgradeResponse& upgrade, bool tunneled,
                                          int port, const std::vector<std::string>& requests) {
  SessionRunner runner(upgrade);
  std::unique_ptr<WebSocketConnection> ws;
  std::unique_ptr<streaming::WebSocketByteStream> tunnel;
  http::UpgradedConnection* connection = &runner.client();
  if (tunneled) {
    ws = std::make_unique<WebSocketConnection>(runner.client(),
                                               WebSocketConnection::Role::kClient);
    tunnel = std::make_unique<streaming::WebSocketByteStream>(*ws, runner.client());
    connection = tunnel.get();
  }
  std::vector<ForwardResult> results;
  {
    SpdySession spdy(*connection, streaming::SpdySessionOptions{});
    spdy.Start();
    for (size_t i = 0; i < requests.size(); ++i) {
      streaming::SpdyHeaders headers = {{"streamtype", "error"},
                                        {"port", std::to_string(port)},
                                        {"requestid", std::to_string(i)}};
      auto error = spdy.OpenStream(headers);
      REQUIRE(error.ok());
      REQUIRE((*error)->WaitForReply(std::chrono::seconds(10)).ok());
      REQUIRE((*error)->CloseWrite());  // kubectl never writes to it
      headers[0].second = "data";
      auto data = spdy.OpenStream(headers);
      REQUIRE(data.ok());
      REQUIRE((*data)->WaitForReply(std::chrono::seconds(10)).ok());
      REQUIRE((*data)->Write(requests[i]));
      REQUIRE((*data)->CloseWrite());
      ForwardResult result;
      result.data = ReadAll(**data);
      (*data)->Reset();  // as kubectl does once the remote side is done
      result.error = ReadAll(**error);
      results.push_back(std::move(result));
    }
    spdy.Close();
  }
  return results;
}

}  // namespace kite::agent::server::testing
