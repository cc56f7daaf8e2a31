#include "src/agent/prober/probe_runner.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "src/agent/prober/grpc_probe.h"
#include "src/agent/prober/http_get.h"
#include "src/server/selection/label_validation.h"

namespace kite::agent::prober {
namespace {

using Clock = std::chrono::steady_clock;

std::string HostPort(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// Go's syscall error text: strerror in lower case ("connection refused").
std::string ErrnoText(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

int64_t CeilSeconds(std::chrono::milliseconds d) { return std::max<int64_t>(1, (d.count() + 999) / 1000); }

bool LooksLikeTimeout(const Status& s) {
  std::string m = s.message();
  for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return m.find("timeout") != std::string::npos || m.find("timed out") != std::string::npos ||
         m.find("deadline") != std::string::npos;
}

}  // namespace

const char* ResultName(ProbeResult result) {
  switch (result) {
    case ProbeResult::kSuccess:
      return "success";
    case ProbeResult::kWarning:
      return "warning";
    case ProbeResult::kFailure:
      return "failure";
    case ProbeResult::kUnknown:
      return "unknown";
  }
  return "";
}

std::string QuoteCommand(const std::vector<std::string>& command) {
  std::string out = "[";
  for (size_t i = 0; i < command.size(); ++i) out += (i ? " " : "") + selection::GoQuote(command[i]);
  return out + "]";
}

ProbeOutcome ExecProbe(runtime::Runtime& rt, const std::string& container_id,
                       const std::vector<std::string>& command, std::chrono::milliseconds timeout) {
  auto start = Clock::now();
  Result<runtime::ExecSyncResult> r = rt.ExecSync(container_id, command, CeilSeconds(timeout));
  if (!r.ok()) {
    // The CRI has no distinct code for an exec that ran out of time: judge by the clock
    // and the message, as the kubelet judges by its own context's deadline.
    if (Clock::now() - start >= timeout || LooksLikeTimeout(r.status())) {
      return {ProbeResult::kFailure, "command " + QuoteCommand(command) + " timed out"};
    }
    return {ProbeResult::kUnknown, r.status().message()};
  }
  std::string output = r->stdout_data + r->stderr_data;
  return {r->exit_code == 0 ? ProbeResult::kSuccess : ProbeResult::kFailure, std::move(output)};
}

ProbeOutcome HttpProbe(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                       std::chrono::milliseconds timeout) {
  HttpGetRequest request;
  request.url = url;
  request.headers = headers;
  request.timeout = timeout;
  Result<HttpGetResponse> r = HttpGet(request);
  if (!r.ok()) return {ProbeResult::kFailure, r.status().message()};
  if (r->status >= 200 && r->status < 400) {
    if (r->status >= 300) return {ProbeResult::kWarning, "Probe terminated redirects, Response body: " + r->body};
    return {ProbeResult::kSuccess, std::move(r->body)};
  }
  return {ProbeResult::kFailure, "HTTP probe failed with statuscode: " + std::to_string(r->status)};
}

ProbeOutcome TcpProbe(const std::string& host, int port, std::chrono::milliseconds timeout) {
  std::string prefix = "dial tcp " + HostPort(host, port) + ": ";
  if (host.empty()) return {ProbeResult::kFailure, prefix + "missing address"};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int gai = getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
  if (gai != 0 || !found) {
    return {ProbeResult::kFailure, prefix + "lookup " + host + ": " + gai_strerror(gai)};
  }
  auto deadline = Clock::now() + timeout;
  std::string last_error = "i/o timeout";
  bool connected = false;
  for (addrinfo* ai = found; ai && !connected; ai = ai->ai_next) {
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + ErrnoText(errno);
      continue;
    }
    int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0) {
      connected = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      int ready = left > 0 ? poll(&p, 1, static_cast<int>(left)) : 0;
      if (ready > 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) {
          connected = true;
        } else {
          last_error = "connect: " + ErrnoText(err);
        }
      } else {
        last_error = "i/o timeout";
      }
    } else {
      last_error = "connect: " + ErrnoText(errno);
    }
    close(fd);
  }
  freeaddrinfo(found);
  if (connected) return {ProbeResult::kSuccess, ""};
  return {ProbeResult::kFailure, prefix + last_error};
}

ProbeOutcome RunProbe(const Action& action, const ProbeTarget& target, std::chrono::milliseconds timeout) {
  switch (action.kind) {
    case ActionKind::kExec:
      if (!target.runtime) return {ProbeResult::kUnknown, "no runtime to exec in"};
      return ExecProbe(*target.runtime, target.container_id, action.command, timeout);
    case ActionKind::kHttpGet: {
      Result<int> port = ResolvePort(action.http.port, target.named_ports, target.container_name);
      if (!port.ok()) return {ProbeResult::kUnknown, port.status().message()};
      std::string host = action.http.host.empty() ? target.pod_ip : action.http.host;
      return HttpProbe(FormatUrl(action.http.scheme, host, *port, action.http.path), action.http.headers, timeout);
    }
    case ActionKind::kTcpSocket: {
      Result<int> port = ResolvePort(action.port, target.named_ports, target.container_name);
      if (!port.ok()) return {ProbeResult::kUnknown, port.status().message()};
      return TcpProbe(action.host.empty() ? target.pod_ip : action.host, *port, timeout);
    }
    case ActionKind::kGrpc: {
      // grpc.port is a number only (validation refuses names).
      if (action.port.number <= 0 || action.port.number >= 65536) {
        return {ProbeResult::kUnknown, "invalid port number: " + std::to_string(action.port.number)};
      }
      return GrpcProbe(target.pod_ip, static_cast<int>(action.port.number), action.grpc_service, timeout);
    }
    case ActionKind::kSleep:
    case ActionKind::kNone:
      break;
  }
  return {ProbeResult::kUnknown, "missing probe handler"};
}

}  // namespace kite::agent::prober
