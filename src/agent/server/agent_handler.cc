#include "src/agent/server/agent_handler.h"

#include <cctype>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "src/agent/logs/container_log.h"
#include "src/agent/logs/log_options.h"
#include "src/agent/server/remote_command.h"
#include "src/agent/server/spdy_bridge.h"
#include "src/agent/server/websocket_port_forward.h"
#include "src/base/clock.h"
#include "src/base/percent_encoding.h"
#include "src/server/streaming/upgrade_client.h"
#include "src/server/streaming/websocket.h"

namespace kite::agent::server {
namespace {

using streaming::HasHeaderToken;
using streaming::HeaderTokens;

constexpr const char* kRemoteCommandSpdyProtocols[] = {
    "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"};

http::Response Plain(int status, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = "text/plain; charset=utf-8";
  response.headers = {{"X-Content-Type-Options", "nosniff"}};
  response.body = std::move(body);
  if (response.body.empty() || response.body.back() != '\n') response.body += '\n';
  return response;
}

int HttpStatusOf(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> Segments(std::string_view path) {
  std::vector<std::string> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty()) out.emplace_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// Form decoding as Go's url.ParseQuery does it ('+' is a space); a bad escape is kept as is.
std::string FormDecode(std::string_view in) { return PercentDecodeLenient(in, /*plus_is_space=*/true); }

using Query = std::vector<std::pair<std::string, std::string>>;

Query ParseQuery(std::string_view raw) {
  Query query;
  while (!raw.empty()) {
    size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      query.emplace_back(FormDecode(pair.substr(0, eq)),
                         eq == std::string_view::npos ? "" : FormDecode(pair.substr(eq + 1)));
    }
    if (amp == std::string_view::npos) break;
    raw.remove_prefix(amp + 1);
  }
  return query;
}

std::vector<std::string> QueryValues(const Query& query, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : query) {
    if (k == name) out.push_back(v);
  }
  return out;
}

bool QueryFlag(const Query& query, std::string_view name) {
  std::vector<std::string> values = QueryValues(query, name);
  if (values.empty()) return false;
  std::string v = Lower(values.front());
  return v == "1" || v == "true" || v == "t";
}

enum class UpgradeKind { kNone, kWebSocket, kSpdy };

UpgradeKind KindOf(const http::Request& request) {
  if (!HasHeaderToken(request.headers, "connection", "upgrade")) return UpgradeKind::kNone;
  std::string upgrade = Lower(request.Header("upgrade"));
  if (upgrade == "websocket") return UpgradeKind::kWebSocket;
  if (upgrade == "spdy/3.1") return UpgradeKind::kSpdy;
  return UpgradeKind::kNone;
}

// The 101 headers for a WebSocket upgrade, or a 400 explaining what is wrong.
std::optional<http::Response> CheckWebSocket(const http::Request& request) {
  if (request.method != "GET") {
    return Plain(400, "a WebSocket upgrade must use GET");
  }
  if (request.Header("sec-websocket-version") != "13" ||
      request.Header("sec-websocket-key").empty()) {
    return Plain(400, "a WebSocket upgrade needs Sec-WebSocket-Version 13 and a "
                      "Sec-WebSocket-Key");
  }
  return std::nullopt;
}

// No Sec-WebSocket-Protocol when `protocol` is empty (a client that offered none).
http::HeaderList WebSocketHeaders(const http::Request& request, const std::string& protocol) {
  http::HeaderList headers = {
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Accept",
       streaming::WebSocketAccept(std::string(request.Header("sec-websocket-key")))}};
  if (!protocol.empty()) headers.emplace_back("Sec-WebSocket-Protocol", protocol);
  return headers;
}

http::HeaderList SpdyHeaders(const std::string& protocol) {
  http::HeaderList headers = {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}};
  if (!protocol.empty()) headers.emplace_back("X-Stream-Protocol-Version", protocol);
  return headers;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// Connects to the runtime's stream URL and upgrades to SPDY with `protocol`.
Result<std::shared_ptr<streaming::SocketConnection>> DialRuntime(
    const std::string& url, const std::string& protocol, std::chrono::milliseconds timeout) {
  streaming::UpgradeRequest request;
  request.url = url;
  request.method = "POST";
  request.headers = {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}};
  if (!protocol.empty()) request.headers.emplace_back("X-Stream-Protocol-Version", protocol);
  request.timeout = timeout;
  Result<streaming::UpgradedClient> upgraded = streaming::DialUpgrade(request);
  if (!upgraded.ok()) return upgraded.status();
  std::vector<std::string> answered =
      HeaderTokens(upgraded->headers, "x-stream-protocol-version");
  if (!protocol.empty() && !answered.empty() && answered.front() != protocol) {
    return UnavailableError("the runtime's streaming server chose protocol " +
                            answered.front() + " instead of " + protocol);
  }
  return std::shared_ptr<streaming::SocketConnection>(std::move(upgraded->connection));
}

}  // namespace

AgentHandler::AgentHandler(runtime::Runtime* runtime, PodLookup* pods,
                           AgentHandlerOptions options)
    : runtime_(runtime), pods_(pods), options_(std::move(options)) {}

bool AgentHandler::Authorized(const http::PeerIdentity& peer) {
  if (!peer.has_verified_certificate) return false;
  if (peer.common_name == kKubeletClientUser) return true;
  for (const std::string& o : peer.organizations) {
    if (o == kMastersGroup) return true;
  }
  return false;
}

void AgentHandler::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

http::HandlerResult AgentHandler::Handle(http::Request& request) {
  if (!request.peer.has_verified_certificate) return Plain(401, "Unauthorized");
  if (!Authorized(request.peer)) {
    return Plain(403, "Forbidden (user=" + request.peer.common_name + ", path=" +
                          request.path + ")");
  }
  std::vector<std::string> segments = Segments(request.path);
  if (segments.empty()) return Plain(404, "404 page not found");
  const std::string& root = segments[0];
  bool stream_route = root == "exec" || root == "attach" || root == "portForward";
  if (root == "healthz" && segments.size() == 1) {
    if (request.method != "GET" && request.method != "HEAD") {
      return Plain(405, "405 method not allowed");
    }
    return Plain(200, "ok");
  }
  if (root == "metrics" && segments.size() == 2 && segments[1] == "resource") {
    if (request.method != "GET" && request.method != "HEAD") return Plain(405, "405 method not allowed");
    return ResourceMetrics();
  }
  if (root == "containerLogs") {
    if (request.method != "GET") return Plain(405, "405 method not allowed");
    return HandleContainerLogs(request, segments);
  }
  if (!stream_route) return Plain(404, "404 page not found");
  if (request.method != "GET" && request.method != "POST") {
    return Plain(405, "405 method not allowed");
  }
  if (root == "portForward") return HandlePortForward(request, segments);
  return HandleRemoteCommand(request, root == "exec", segments);
}

http::HandlerResult AgentHandler::ResourceMetrics() {
  Result<HostUsage> host = options_.host_usage ? options_.host_usage()
                                               : ReadHostUsage("/proc", SystemClock::Get()->NowMillis());
  if (!host.ok()) Log("metrics/resource: node usage: " + host.status().message());
  http::Response response;
  response.status = 200;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = RenderResourceMetrics(*runtime_, host.ok() ? &*host : nullptr);
  return response;
}

http::HandlerResult AgentHandler::HandleContainerLogs(http::Request& request,
                                                      const std::vector<std::string>& segments) {
  if (segments.size() != 4) {
    return Plain(400, "expected /containerLogs/{namespace}/{pod}/{container}");
  }
  Result<PodTarget> pod = pods_->FindPod(segments[1], segments[2]);
  if (!pod.ok()) return Plain(HttpStatusOf(pod.status()), pod.status().message());
  ContainerLogsRequest logs{segments[1], segments[2], pod->uid, segments[3], request.query};
  if (options_.container_logs) return options_.container_logs(logs);
  Result<agent::logs::LogOptions> log_options = agent::logs::ParseLogOptions(request.query);
  if (!log_options.ok()) return Plain(400, log_options.status().message());
  Result<std::unique_ptr<http::ResponseStream>> stream =
      agent::logs::OpenContainerLog(*runtime_, pod->uid, logs.container, *log_options);
  if (!stream.ok()) return Plain(HttpStatusOf(stream.status()), stream.status().message());
  http::StreamingResponse response;
  response.status = 200;
  response.content_type = "text/plain";
  response.stream = std::move(*stream);
  return response;
}

http::HandlerResult AgentHandler::HandleRemoteCommand(http::Request& request, bool exec,
                                                      const std::vector<std::string>& segments) {
  const char* verb = exec ? "exec" : "attach";
  Query query = ParseQuery(request.query);
  std::string ns, pod_name, uid, container;
  if (segments.size() == 4) {
    ns = segments[1], pod_name = segments[2], container = segments[3];
  } else if (segments.size() == 5) {
    ns = segments[1], pod_name = segments[2], uid = segments[3], container = segments[4];
  } else if (segments.size() == 3) {
    ns = segments[1], pod_name = segments[2];
    std::vector<std::string> given = QueryValues(query, "container");
    if (!given.empty()) container = given.front();
  }
  if (ns.empty() || pod_name.empty() || container.empty()) {
    return Plain(400, std::string("expected /") + verb + "/{namespace}/{pod}/{container}");
  }
  RemoteCommandOptions command;
  command.stdin_open = QueryFlag(query, "stdin");
  command.stdout_open = QueryFlag(query, "stdout");
  command.stderr_open = QueryFlag(query, "stderr");
  command.tty = QueryFlag(query, "tty");
  if (command.tty) command.stderr_open = false;  // one stream carries both with a TTY
  if (!command.stdin_open && !command.stdout_open && !command.stderr_open) {
    return Plain(400, "you must specify at least 1 of stdin, stdout, stderr");
  }
  std::vector<std::string> argv = QueryValues(query, "command");
  if (exec && argv.empty()) return Plain(400, "you must specify at least one command");

  UpgradeKind kind = KindOf(request);
  std::string protocol;
  if (kind == UpgradeKind::kWebSocket) {
    if (auto bad = CheckWebSocket(request)) return *bad;
    std::vector<std::string> offered = HeaderTokens(request.headers, "sec-websocket-protocol");
    protocol = ChooseRemoteCommandSubprotocol(offered);
    if (protocol.empty()) {
      return Plain(400, "requested protocol(s) are not supported: [" + Join(offered) +
                            "]; supports [" + kV5ChannelProtocol + ", " + kV4ChannelProtocol +
                            ", " + kV4Base64ChannelProtocol + "]");
    }
  } else if (kind == UpgradeKind::kSpdy) {
    std::vector<std::string> offered = HeaderTokens(request.headers, "x-stream-protocol-version");
    for (const std::string& p : offered) {
      for (const char* supported : kRemoteCommandSpdyProtocols) {
        if (protocol.empty() && p == supported) protocol = p;
      }
    }
    if (!offered.empty() && protocol.empty()) {
      return Plain(400, "unable to negotiate protocol: client supports [" + Join(offered) +
                            "], server supports [v4.channel.k8s.io, v3.channel.k8s.io, "
                            "v2.channel.k8s.io, channel.k8s.io]");
    }
  } else {
    return Plain(400, "Upgrade request required (WebSocket or SPDY/3.1)");
  }

  Result<PodTarget> pod = pods_->FindPod(ns, pod_name);
  if (!pod.ok()) return Plain(HttpStatusOf(pod.status()), pod.status().message());
  if (!uid.empty() && uid != pod->uid) {
    return Plain(404, "pod \"" + pod_name + "\" with uid " + uid + " not found on this node");
  }
  Result<std::string> container_id = pods_->FindRunningContainer(*pod, container);
  if (!container_id.ok()) {
    return Plain(HttpStatusOf(container_id.status()), container_id.status().message());
  }

  runtime::StreamRequest stream;
  stream.container_id = *container_id;
  stream.command = argv;
  stream.tty = command.tty;
  stream.stdin_open = command.stdin_open;
  stream.stdout_open = command.stdout_open;
  stream.stderr_open = command.stderr_open;
  Result<std::string> url = exec ? runtime_->Exec(stream) : runtime_->Attach(stream);
  if (!url.ok()) {
    Log(std::string(verb) + " " + ns + "/" + pod_name + ": " + url.status().message());
    return Plain(HttpStatusOf(url.status()), url.status().message());
  }
  // Toward the runtime: the client's SPDY protocol as negotiated, or v4 for WebSocket.
  std::string runtime_protocol = kind == UpgradeKind::kWebSocket ? kV4ChannelProtocol : protocol;
  Result<std::shared_ptr<streaming::SocketConnection>> runtime_connection =
      DialRuntime(*url, runtime_protocol, options_.runtime_dial_timeout);
  if (!runtime_connection.ok()) {
    Log(std::string(verb) + " " + ns + "/" + pod_name + ": " +
        runtime_connection.status().message());
    return Plain(500, "error reaching the container runtime's streaming server: " +
                          runtime_connection.status().message());
  }

  http::UpgradeResponse upgrade;
  std::shared_ptr<streaming::SocketConnection> runtime_conn = *runtime_connection;
  if (kind == UpgradeKind::kWebSocket) {
    upgrade.headers = WebSocketHeaders(request, protocol);
    RemoteCommandSessionOptions session_options;
    session_options.reply_timeout = options_.reply_timeout;
    session_options.log = options_.log;
    upgrade.session = [runtime_conn, protocol, command,
                       session_options](http::UpgradedConnection& client) {
      RunWebSocketRemoteCommand(client, protocol, *runtime_conn, command, session_options);
      runtime_conn->Close();
    };
  } else {
    upgrade.headers = SpdyHeaders(protocol);
    SpdyBridgeOptions bridge_options;
    bridge_options.reply_timeout = options_.reply_timeout;
    bridge_options.log = options_.log;
    upgrade.session = [runtime_conn, bridge_options](http::UpgradedConnection& client) {
      BridgeSpdySessions(client, *runtime_conn, bridge_options);
    };
  }
  return upgrade;
}

http::HandlerResult AgentHandler::HandlePortForward(http::Request& request,
                                                    const std::vector<std::string>& segments) {
  if (segments.size() != 3 && segments.size() != 4) {
    return Plain(400, "expected /portForward/{namespace}/{pod}");
  }
  const std::string& ns = segments[1];
  const std::string& pod_name = segments[2];
  std::string uid = segments.size() == 4 ? segments[3] : "";

  UpgradeKind kind = KindOf(request);
  // WebSocket channels (the official clients' way) unless the client asks for kubectl's
  // SPDY tunnel: the subprotocol chosen for them and the ports from the query.
  bool channels = false;
  std::string channel_protocol;
  std::vector<uint16_t> ports;
  if (kind == UpgradeKind::kWebSocket) {
    if (auto bad = CheckWebSocket(request)) return *bad;
    if (!HasHeaderToken(request.headers, "sec-websocket-protocol",
                        kTunneledPortForwardProtocol)) {
      Result<std::string> chosen = ChooseWebSocketPortForwardSubprotocol(
          HeaderTokens(request.headers, "sec-websocket-protocol"));
      if (!chosen.ok()) {
        return Plain(400, chosen.status().message() + " (or " + kTunneledPortForwardProtocol +
                              " for SPDY over WebSocket)");
      }
      Query query = ParseQuery(request.query);
      std::vector<std::string> values = QueryValues(query, "port");  // as the API server sends
      for (std::string& v : QueryValues(query, "ports")) values.push_back(std::move(v));
      Result<std::vector<uint16_t>> parsed = ParseWebSocketForwardPorts(values);
      if (!parsed.ok()) return Plain(400, parsed.status().message());
      channels = true;
      channel_protocol = *chosen;
      ports = std::move(*parsed);
    }
  } else if (kind == UpgradeKind::kSpdy) {
    std::vector<std::string> offered = HeaderTokens(request.headers, "x-stream-protocol-version");
    if (!offered.empty() &&
        !HasHeaderToken(request.headers, "x-stream-protocol-version", kPortForwardProtocol)) {
      return Plain(400, "unable to negotiate protocol: client supports [" + Join(offered) +
                            "], server supports [" + kPortForwardProtocol + "]");
    }
  } else {
    return Plain(400, "Upgrade request required (WebSocket or SPDY/3.1)");
  }

  Result<PodTarget> pod = pods_->FindPod(ns, pod_name);
  if (!pod.ok()) return Plain(HttpStatusOf(pod.status()), pod.status().message());
  if (!uid.empty() && uid != pod->uid) {
    return Plain(404, "pod \"" + pod_name + "\" with uid " + uid + " not found on this node");
  }
  runtime::StreamRequest stream;
  stream.sandbox_id = pod->sandbox_id;
  Result<std::string> url = runtime_->PortForward(stream);
  if (!url.ok()) {
    Log("portForward " + ns + "/" + pod_name + ": " + url.status().message());
    return Plain(HttpStatusOf(url.status()), url.status().message());
  }
  Result<std::shared_ptr<streaming::SocketConnection>> runtime_connection =
      DialRuntime(*url, kPortForwardProtocol, options_.runtime_dial_timeout);
  if (!runtime_connection.ok()) {
    Log("portForward " + ns + "/" + pod_name + ": " + runtime_connection.status().message());
    return Plain(500, "error reaching the container runtime's streaming server: " +
                          runtime_connection.status().message());
  }
  std::shared_ptr<streaming::SocketConnection> runtime_conn = *runtime_connection;
  SpdyBridgeOptions bridge_options;
  bridge_options.reply_timeout = options_.reply_timeout;
  bridge_options.log = options_.log;

  http::UpgradeResponse upgrade;
  if (channels) {
    upgrade.headers = WebSocketHeaders(request, channel_protocol);
    WebSocketPortForwardOptions forward_options;
    forward_options.pod_name = pod_name;
    forward_options.pod_uid = pod->uid;
    forward_options.reply_timeout = options_.reply_timeout;
    forward_options.log = options_.log;
    upgrade.session = [runtime_conn, channel_protocol, ports,
                       forward_options](http::UpgradedConnection& client) {
      RunWebSocketPortForward(client, channel_protocol, *runtime_conn, ports, forward_options);
      runtime_conn->Close();
    };
  } else if (kind == UpgradeKind::kWebSocket) {
    upgrade.headers = WebSocketHeaders(request, kTunneledPortForwardProtocol);
    upgrade.session = [runtime_conn, bridge_options](http::UpgradedConnection& client) {
      streaming::WebSocketConnection ws(client, streaming::WebSocketConnection::Role::kServer);
      streaming::WebSocketByteStream tunnel(ws, client);
      BridgeSpdySessions(tunnel, *runtime_conn, bridge_options);
    };
  } else {
    upgrade.headers = SpdyHeaders(kPortForwardProtocol);
    upgrade.session = [runtime_conn, bridge_options](http::UpgradedConnection& client) {
      BridgeSpdySessions(client, *runtime_conn, bridge_options);
    };
  }
  return upgrade;
}

}  // namespace kite::agent::server
