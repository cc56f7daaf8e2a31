// port-forward over WebSocket channels: the query's ports, the subprotocol choice, the
// session against a scripted runtime on a socketpair (prefixes, bytes both ways, error
// texts, who closes what), and the handler choosing it over the SPDY tunnel.
#include "src/agent/server/websocket_port_forward.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <thread>
#include <variant>

#include "src/agent/server/agent_handler.h"
#include "src/agent/server/remote_command.h"
#include "src/base/mutex.h"
#include "src/server/streaming/socket_connection.h"
#include "src/server/streaming/spdy_session.h"
#include "src/server/streaming/websocket.h"
#include "tests/agent/server/channel_forward_client.h"
#include "tests/agent/server/fake_stream_runtime.h"
#include "tests/agent/server/stream_clients.h"

namespace kite::agent::server {
namespace {

using namespace std::chrono_literals;
using streaming::SpdySession;
using streaming::SpdyStream;
using streaming::WebSocketConnection;
using testing::PortPrefix;

bool Eventually(const std::function<bool()>& condition) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

TEST_CASE("ports come from port= and ports=, comma-separated, 1..65535") {
  auto ports = ParseWebSocketForwardPorts({"80,8080", "443"});
  REQUIRE(ports.ok());
  CHECK(*ports == std::vector<uint16_t>{80, 8080, 443});
  CHECK(*ParseWebSocketForwardPorts({"65535,1,1"}) == std::vector<uint16_t>{65535, 1, 1});

  auto message = [](std::vector<std::string> values) {
    auto parsed = ParseWebSocketForwardPorts(values);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    return parsed.status().message();
  };
  CHECK(message({}) == "query parameter \"port\" is required");
  CHECK(message({""}) == "query parameter \"port\" cannot be empty");
  CHECK(message({"80,http"}) == "unable to parse \"80,http\" as a port: strconv.ParseUint: "
                                "parsing \"http\": invalid syntax");
  CHECK(message({"65536"}).find("value out of range") != std::string::npos);
  CHECK(message({"80,"}).find("parsing \"\": invalid syntax") != std::string::npos);
  CHECK(message({"-1"}).find("invalid syntax") != std::string::npos);
  CHECK(message({"0"}) == "port \"0\" must be > 0");
  std::string many;
  for (int i = 1; i <= 129; ++i) many += (i > 1 ? "," : "") + std::to_string(i);
  CHECK(message({many}).find("at most 128 ports") != std::string::npos);
}

TEST_CASE("the channel subprotocols: v4 binary, then v4 base64; none means binary") {
  CHECK(*ChooseWebSocketPortForwardSubprotocol({"v4.base64.channel.k8s.io", "v4.channel.k8s.io"}) ==
        "v4.channel.k8s.io");
  CHECK(*ChooseWebSocketPortForwardSubprotocol({"v5.channel.k8s.io", "v4.base64.channel.k8s.io"}) ==
        "v4.base64.channel.k8s.io");
  CHECK(*ChooseWebSocketPortForwardSubprotocol({}) == "");
  auto refused = ChooseWebSocketPortForwardSubprotocol({"v5.channel.k8s.io"});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("v5.channel.k8s.io") != std::string::npos);
  CHECK(refused.status().message().find("supports [v4.channel.k8s.io") != std::string::npos);
}

// The runtime's side (containerd's portforward.k8s.io) on one end of a socketpair. Per
// data stream: a port in `refused_ports` answers as containerd does when nothing listens
// (its error text, then both streams closed); a port in `reset_ports` has its streams reset
// before any reply; any other port upper-cases what it reads and closes both streams once
// the input contains "quit" or ends.
class ScriptedRuntime {
 public:
  ScriptedRuntime(std::vector<int> refused_ports, std::vector<int> reset_ports)
      : pair_(streaming::MakeSocketPair()),
        refused_(std::move(refused_ports)),
        reset_(std::move(reset_ports)),
        spdy_(*pair_.second, ServerOptions()) {
    spdy_.Start();
    acceptor_ = std::thread([this] { Serve(); });
  }
  ~ScriptedRuntime() {
    spdy_.Close();
    acceptor_.join();
    for (std::thread& t : workers_) t.join();
  }

  // The agent's end.
  http::UpgradedConnection& agent_side() { return *pair_.first; }

  struct Seen {
    std::string type, port, request_id;
  };
  std::vector<Seen> streams() const {
    MutexLock lock(mu_);
    return streams_;
  }
  // Per port: whether its error stream was half-closed by the agent when the data stream
  // arrived, what the data stream received, and how its input ended ("fin", "reset").
  std::map<std::string, bool> error_half_closed() const {
    MutexLock lock(mu_);
    return error_half_closed_;
  }
  std::map<std::string, std::string> received() const {
    MutexLock lock(mu_);
    return received_;
  }
  std::map<std::string, std::string> input_end() const {
    MutexLock lock(mu_);
    return input_end_;
  }
  bool ended() const { return spdy_.ended(); }

 private:
  static streaming::SpdySessionOptions ServerOptions() {
    streaming::SpdySessionOptions options;
    options.server = true;
    return options;
  }

  void Serve() {
    std::map<std::string, std::shared_ptr<SpdyStream>> errors;  // by request id
    while (std::shared_ptr<SpdyStream> stream = spdy_.AcceptStream()) {
      std::string type(stream->Header("streamtype"));
      std::string port(stream->Header("port"));
      std::string id(stream->Header("requestid"));
      {
        MutexLock lock(mu_);
        streams_.push_back({type, port, id});
      }
      int number = std::atoi(port.c_str());
      if (std::count(reset_.begin(), reset_.end(), number)) {
        stream->Reset(streaming::kSpdyRefusedStream);
        continue;
      }
      stream->Reply();
      if (type == "error") {
        errors[id] = stream;
        continue;
      }
      std::shared_ptr<SpdyStream> error = errors[id];
      {
        MutexLock lock(mu_);
        error_half_closed_[port] = error && error->remote_closed();
      }
      bool refused = std::count(refused_.begin(), refused_.end(), number) > 0;
      workers_.emplace_back([this, stream, error, port, refused] {
        if (refused && error) {
          (void)error->Write("error forwarding port " + port +
                             " to pod sandbox-1, uid : dial tcp4 127.0.0.1:" + port +
                             ": connect: connection refused");
        } else {
          std::string input;
          char buffer[4096];
          while (size_t n = stream->Read(buffer, sizeof(buffer))) {
            std::string chunk(buffer, n);
            input += chunk;
            {
              MutexLock lock(mu_);
              received_[port] = input;
            }
            for (char& c : chunk) {
              c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            (void)stream->Write(chunk);
            if (input.find("quit") != std::string::npos) break;
          }
          MutexLock lock(mu_);
          if (input.find("quit") == std::string::npos) {
            input_end_[port] = stream->was_reset() ? "reset" : "fin";
          }
        }
        if (error) (void)error->CloseWrite();
        (void)stream->CloseWrite();
      });
    }
  }

  streaming::SocketPair pair_;
  const std::vector<int> refused_;
  const std::vector<int> reset_;
  SpdySession spdy_;
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // acceptor thread only, then the destructor
  mutable Mutex mu_;
  std::vector<Seen> streams_ GUARDED_BY(mu_);
  std::map<std::string, bool> error_half_closed_ GUARDED_BY(mu_);
  std::map<std::string, std::string> received_ GUARDED_BY(mu_);
  std::map<std::string, std::string> input_end_ GUARDED_BY(mu_);
};

WebSocketPortForwardOptions TestOptions() {
  WebSocketPortForwardOptions options;
  options.pod_name = "web";
  options.pod_uid = "uid-1";
  options.reply_timeout = 5s;
  options.close_grace = 2s;
  return options;
}

// RunWebSocketPortForward on one end of a socketpair; joined on destruction.
struct Session {
  streaming::SocketPair pair = streaming::MakeSocketPair();
  std::thread thread;
  std::atomic<bool> returned{false};
  Session(ScriptedRuntime& runtime, std::string subprotocol, std::vector<uint16_t> ports) {
    thread = std::thread([this, &runtime, subprotocol, ports] {
      RunWebSocketPortForward(*pair.first, subprotocol, runtime.agent_side(), ports,
                              TestOptions());
      pair.first->Close();
      returned = true;
    });
  }
  ~Session() {
    pair.second->Close();
    thread.join();
  }
  http::UpgradedConnection& client() { return *pair.second; }
};

TEST_CASE("two ports: prefixes first, bytes both ways, the runtime's error text, then a close") {
  ScriptedRuntime runtime({8080}, {});
  Session session(runtime, kV4ChannelProtocol, {80, 8080});
  testing::ChannelForwardResult result = testing::SpeakChannelPortForward(
      session.client(), kV4ChannelProtocol, 2, {"hello quit", "nobody reads this"});

  REQUIRE(result.channels_seen.size() >= 4);
  CHECK(std::vector<int>(result.channels_seen.begin(), result.channels_seen.begin() + 4) ==
        std::vector<int>{0, 1, 2, 3});
  CHECK(result.prefixes == std::vector<std::string>{PortPrefix(80), PortPrefix(80),
                                                    PortPrefix(8080), PortPrefix(8080)});
  CHECK(PortPrefix(8080) == std::string("\x90\x1f", 2));  // little-endian
  CHECK(result.data[0] == "HELLO QUIT");
  CHECK(result.errors[0].empty());
  CHECK(result.data[1].empty());
  CHECK(result.errors[1] == "error forwarding port 8080 to pod sandbox-1, uid : dial tcp4 "
                            "127.0.0.1:8080: connect: connection refused");
  CHECK(result.closed_normally);
  CHECK(Eventually([&] { return session.returned.load(); }));

  // kubectl's stream pairs: error then data, with the port and the port's index.
  std::vector<ScriptedRuntime::Seen> streams = runtime.streams();
  REQUIRE(streams.size() == 4);
  std::vector<std::string> described;
  for (const auto& s : streams) described.push_back(s.type + ":" + s.port + ":" + s.request_id);
  CHECK(described == std::vector<std::string>{"error:80:0", "data:80:0", "error:8080:1",
                                              "data:8080:1"});
  CHECK(runtime.error_half_closed() == std::map<std::string, bool>{{"80", true}, {"8080", true}});
  CHECK(runtime.received().at("80") == "hello quit");
  CHECK(Eventually([&] { return runtime.ended(); }));
}

TEST_CASE("base64 channels: text messages with the channel as a digit") {
  ScriptedRuntime runtime({}, {});
  Session session(runtime, kV4Base64ChannelProtocol, {80});
  testing::ChannelForwardResult result = testing::SpeakChannelPortForward(
      session.client(), kV4Base64ChannelProtocol, 1, {"abc quit"});
  CHECK(result.prefixes == std::vector<std::string>{PortPrefix(80), PortPrefix(80)});
  CHECK(result.data[0] == "ABC QUIT");
  CHECK(result.closed_normally);
}

TEST_CASE("the client leaving ends the input of every port, then the runtime's session") {
  ScriptedRuntime runtime({}, {});
  Session session(runtime, kV4ChannelProtocol, {80, 81});
  WebSocketConnection ws(session.client(), WebSocketConnection::Role::kClient);
  for (int i = 0; i < 4; ++i) {
    auto prefix = ws.Read();
    REQUIRE(prefix.ok());
  }
  // Bytes on an error channel and on a channel with no port are dropped.
  REQUIRE(ws.SendBinary(std::string("\x01ignored")));
  REQUIRE(ws.SendBinary(std::string("\x09ignored")));
  REQUIRE(ws.SendBinary(std::string("\x02partial")));
  auto echoed = ws.Read();
  REQUIRE(echoed.ok());
  CHECK(echoed->data == "\x02PARTIAL");
  CHECK(runtime.received() == std::map<std::string, std::string>{{"81", "partial"}});
  REQUIRE(ws.SendClose());
  while (ws.Read().ok()) {
  }
  CHECK(ws.peer_close_code() == streaming::kWsCloseNormal);
  CHECK(Eventually([&] { return session.returned.load(); }));
  CHECK(Eventually([&] { return runtime.ended(); }));
  CHECK(Eventually([&] { return runtime.input_end().size() == 2; }));
  CHECK(runtime.input_end() == std::map<std::string, std::string>{{"80", "fin"}, {"81", "fin"}});
}

TEST_CASE("streams the runtime refuses become an error on that port's error channel") {
  ScriptedRuntime runtime({}, {80});
  Session session(runtime, kV4ChannelProtocol, {80, 81});
  testing::ChannelForwardResult result =
      testing::SpeakChannelPortForward(session.client(), kV4ChannelProtocol, 2, {"", "ok quit"});
  CHECK(result.prefixes.size() == 4);
  CHECK(result.errors[0].rfind("error forwarding port 80 to pod web, uid uid-1: opening the "
                               "container runtime's streams: ",
                               0) == 0);
  CHECK(result.data[1] == "OK QUIT");  // the other port still works
  CHECK(result.errors[1].empty());
  CHECK(result.closed_normally);
}

// --- the handler ---------------------------------------------------------------------------

class FakePods final : public PodLookup {
 public:
  Result<PodTarget> FindPod(const std::string& ns, const std::string& name) override {
    if (ns == "default" && name == "web") return PodTarget{"uid-1", "sandbox-1"};
    return NotFoundError("pod \"" + name + "\" not found");
  }
  Result<std::string> FindRunningContainer(const PodTarget&, const std::string&) override {
    return NotFoundError("no containers here");
  }
};

std::string HeaderOf(const http::HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return "<none>";
}

TEST_CASE("the handler serves channels for v4 subprotocols and keeps the SPDY tunnel") {
  testing::FakeStreamRuntime runtime;
  FakePods pods;
  AgentHandler handler(&runtime, &pods, AgentHandlerOptions{});
  auto handle = [&](http::Request request) { return handler.Handle(request); };
  auto error = [&](http::Request request) {
    http::HandlerResult result = handle(std::move(request));
    REQUIRE(std::holds_alternative<http::Response>(result));
    http::Response response = std::get<http::Response>(std::move(result));
    CHECK(response.status == 400);
    return response.body;
  };
  const std::string path = "/portForward/default/web";

  CHECK(error(testing::WebSocketRequest(path, "", kV4ChannelProtocol)).find(
            "query parameter \"port\" is required") != std::string::npos);
  CHECK(error(testing::WebSocketRequest(path, "ports=0", kV4ChannelProtocol)).find(
            "must be > 0") != std::string::npos);
  CHECK(error(testing::WebSocketRequest(path, "port=80%2Chttp", kV4ChannelProtocol))
            .find("unable to parse \"80,http\" as a port") != std::string::npos);
  CHECK(error(testing::WebSocketRequest(path, "ports=80", "v5.channel.k8s.io"))
            .find("SPDY/3.1+portforward.k8s.io") != std::string::npos);
  CHECK(runtime.requests().empty());

  {
    INFO("v4.channel.k8s.io: the ports of port= (the API server's) then ports=");
    http::HandlerResult result =
        handle(testing::WebSocketRequest(path, "ports=9090&port=8080", kV4ChannelProtocol));
    REQUIRE(std::holds_alternative<http::UpgradeResponse>(result));
    http::UpgradeResponse& upgrade = std::get<http::UpgradeResponse>(result);
    CHECK(HeaderOf(upgrade.headers, "Sec-WebSocket-Protocol") == kV4ChannelProtocol);
    REQUIRE(runtime.requests().size() == 1);
    CHECK(runtime.requests()[0].sandbox_id == "sandbox-1");
    CHECK(runtime.protocols() == std::vector<std::string>{"portforward.k8s.io"});

    streaming::SocketPair pair = streaming::MakeSocketPair();
    std::thread session([&] {
      upgrade.session(*pair.first);
      pair.first->Close();
    });
    WebSocketConnection ws(*pair.second, WebSocketConnection::Role::kClient);
    std::vector<std::string> messages;
    for (int i = 0; i < 4; ++i) {
      auto message = ws.Read();
      if (message.ok()) messages.push_back(message->data);
    }
    (void)ws.SendClose();
    while (ws.Read().ok()) {
    }
    pair.second->Close();
    session.join();
    CHECK(messages == std::vector<std::string>{std::string(1, '\0') + PortPrefix(8080),
                                               "\x01" + PortPrefix(8080),
                                               "\x02" + PortPrefix(9090),
                                               "\x03" + PortPrefix(9090)});
  }
  {
    INFO("no subprotocol offered: binary channels, none in the answer");
    http::Request request = testing::WebSocketRequest(path, "ports=80", "");
    request.headers.pop_back();  // sec-websocket-protocol
    http::HandlerResult result = handle(std::move(request));
    REQUIRE(std::holds_alternative<http::UpgradeResponse>(result));
    CHECK(HeaderOf(std::get<http::UpgradeResponse>(result).headers, "Sec-WebSocket-Protocol") ==
          "<none>");
  }
  {
    INFO("kubectl's tunnel wins when offered, ports or not");
    http::HandlerResult result = handle(testing::WebSocketRequest(
        path, "ports=80", "v4.channel.k8s.io, SPDY/3.1+portforward.k8s.io"));
    REQUIRE(std::holds_alternative<http::UpgradeResponse>(result));
    CHECK(HeaderOf(std::get<http::UpgradeResponse>(result).headers, "Sec-WebSocket-Protocol") ==
          kTunneledPortForwardProtocol);
  }
}

}  // namespace
}  // namespace kite::agent::server
