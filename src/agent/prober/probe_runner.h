// Running one probe: exec (Runtime::ExecSync), httpGet, tcpSocket and grpc, as the kubelet's
// prober (pkg/kubelet/prober/prober.go, pkg/probe/{exec,http,tcp,grpc}) judges them.
//
// Results:
//   exec       exit code 0 → Success; another exit code or the timeout → Failure (output:
//              the command's stdout and stderr, or `command [...] timed out`); any other
//              runtime error → Unknown (the worker throws the result away).
//   httpGet    status 200..399 → Success; a redirect to another host is not followed and
//              counts as Warning (a success, as Kubernetes judges it); another status →
//              Failure "HTTP probe failed with statuscode: N"; no answer within the timeout
//              → Failure with the error. An unknown named port → Unknown.
//   tcpSocket  a connection within the timeout → Success, else Failure ("dial tcp
//              HOST:PORT: connect: connection refused", "... i/o timeout").
//   grpc       grpc.health.v1.Health/Check answered SERVING → Success; another status,
//              an error or no answer → Failure (see grpc_probe.h).
// The host of httpGet and tcpSocket defaults to the pod IP; grpc always uses the pod IP.
//
// Thread-safety: the functions may run concurrently; each blocks for at most about the
// timeout (exec: as long as the runtime honours the timeout it is given).
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "src/agent/prober/probe_spec.h"
#include "src/runtime/runtime.h"

namespace kite::agent::prober {

enum class ProbeResult { kSuccess, kWarning, kFailure, kUnknown };

const char* ResultName(ProbeResult result);

struct ProbeOutcome {
  ProbeResult result = ProbeResult::kUnknown;
  std::string output;  // body, command output, or what failed
};

// Where a probe goes: the container and its pod.
struct ProbeTarget {
  runtime::Runtime* runtime = nullptr;  // exec; must outlive the call
  std::string container_id;             // the runtime's id (no scheme)
  std::string container_name;
  std::string pod_ip;
  std::map<std::string, int64_t> named_ports;  // the container's ports by name
};

ProbeOutcome RunProbe(const Action& action, const ProbeTarget& target, std::chrono::milliseconds timeout);

ProbeOutcome ExecProbe(runtime::Runtime& rt, const std::string& container_id,
                       const std::vector<std::string>& command, std::chrono::milliseconds timeout);
ProbeOutcome HttpProbe(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                       std::chrono::milliseconds timeout);
ProbeOutcome TcpProbe(const std::string& host, int port, std::chrono::milliseconds timeout);

// The output of a command as Kubernetes quotes it in messages (Go's %q of a []string):
// ["sh" "-c" "exit 1"].
std::string QuoteCommand(const std::vector<std::string>& command);

}  // namespace kite::agent::prober
