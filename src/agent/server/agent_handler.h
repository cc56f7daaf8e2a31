// The request handler behind the agent's HTTPS endpoint (port 10250, the kubelet's): who
// may call it, its routes, and the protocol upgrades for exec, attach and port-forward.
//
// Authentication: a client certificate that verified against the cluster CA (the HTTPS
// server checks the chain) with CN "kube-apiserver-kubelet-client" or O "system:masters";
// none → 401, another identity → 403. Every route, /healthz included.
//
// Routes (errors are plain text, as the kubelet's):
//   GET /healthz                                         200 "ok"
//   GET /containerLogs/{ns}/{pod}/{container}?...        the container's log (text/plain)
//   GET|POST /exec/{ns}/{pod}[/{uid}]/{container}?command=..&stdin=..&stdout=..&stderr=..&tty=..
//   GET|POST /attach/{ns}/{pod}[/{uid}]/{container}?stdin=..&stdout=..&stderr=..&tty=..
//   GET|POST /portForward/{ns}/{pod}[/{uid}]
//   GET /metrics/resource                                CPU and memory of the node, pods and
//                                                        containers (resource_metrics.h)
// A flag is on for "1", "true", "t" (any case), as both kubectl's own query (via the API
// server) and the kubelet's form ("1") may arrive. A missing container may come as
// ?container=.
//
// Upgrades: exec/attach answer a WebSocket upgrade with subprotocol v5.channel.k8s.io,
// v4.channel.k8s.io or v4.base64.channel.k8s.io (remote_command.h) and a SPDY/3.1 upgrade
// (X-Stream-Protocol-Version v4..v1.channel.k8s.io, relayed as is: spdy_bridge.h).
// port-forward answers a WebSocket upgrade with subprotocol "SPDY/3.1+portforward.k8s.io"
// (SPDY inside binary messages), one with v4.channel.k8s.io, v4.base64.channel.k8s.io or
// none (channels per port, ?port= or ?ports=: websocket_port_forward.h), and a SPDY/3.1
// upgrade with portforward.k8s.io. Before
// answering 101 the handler finds the pod and container (404 when missing), asks the
// runtime for the stream URL and connects to it (500 with the reason when that fails), so
// every failure the client can be told about arrives as an HTTP status. Anything else →
// 400 saying what is missing.
//
// Thread-safety: Handle may run on many threads at once; sessions run on the HTTPS
// server's upgrade threads. Limits: none beyond the sessions' own (spdy_session.h,
// websocket.h); the number of concurrent sessions is not bounded here.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "src/agent/server/pod_lookup.h"
#include "src/agent/server/resource_metrics.h"
#include "src/base/status.h"
#include "src/runtime/runtime.h"
#include "src/server/http/http_types.h"

namespace kite::agent::server {

inline constexpr char kKubeletClientUser[] = "kube-apiserver-kubelet-client";
inline constexpr char kMastersGroup[] = "system:masters";
inline constexpr char kPortForwardProtocol[] = "portforward.k8s.io";
inline constexpr char kTunneledPortForwardProtocol[] = "SPDY/3.1+portforward.k8s.io";

// What a /containerLogs request names, resolved to the pod's uid.
struct ContainerLogsRequest {
  std::string namespace_;
  std::string pod_name;
  std::string pod_uid;
  std::string container;
  std::string query;  // the raw query: follow, tailLines, sinceSeconds, previous, ...
};
using ContainerLogsHandler = std::function<http::HandlerResult(const ContainerLogsRequest&)>;

struct AgentHandlerOptions {
  // Serves /containerLogs; when empty, the runtime's CRI log files are read
  // (agent/logs: OpenContainerLog with the query's PodLogOptions).
  ContainerLogsHandler container_logs;
  std::chrono::milliseconds runtime_dial_timeout{10000};  // reaching the stream URL
  std::chrono::milliseconds reply_timeout{30000};         // the runtime's stream replies
  std::function<void(const std::string&)> log;            // one line per failure; may be empty
  // The node's usage for /metrics/resource; empty = ReadHostUsage("/proc", now). A failure
  // leaves the node metrics out.
  std::function<Result<HostUsage>()> host_usage;
};

class AgentHandler final : public http::Handler {
 public:
  // `runtime` and `pods` are not owned and must outlive the handler and its sessions.
  AgentHandler(runtime::Runtime* runtime, PodLookup* pods, AgentHandlerOptions options);

  http::HandlerResult Handle(http::Request& request) override;

  // True when `peer` may use the endpoint (see the file comment).
  static bool Authorized(const http::PeerIdentity& peer);

 private:
  http::HandlerResult HandleRemoteCommand(http::Request& request, bool exec,
                                          const std::vector<std::string>& segments);
  http::HandlerResult HandlePortForward(http::Request& request,
                                        const std::vector<std::string>& segments);
  http::HandlerResult HandleContainerLogs(http::Request& request,
                                          const std::vector<std::string>& segments);
  http::HandlerResult ResourceMetrics();
  void Log(const std::string& line) const;

  runtime::Runtime* const runtime_;
  PodLookup* const pods_;
  const AgentHandlerOptions options_;
};

}  // namespace kite::agent::server
