#include "src/agent/prober/lifecycle_hooks.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "src/agent/prober/http_get.h"
#include "src/server/json/json_util.h"
#include "src/server/selection/label_validation.h"

namespace kite::agent::prober {
namespace {

// Go's %v of a []string: [sh -c exit 1].
std::string Brackets(const std::vector<std::string>& command) {
  std::string out = "[";
  for (size_t i = 0; i < command.size(); ++i) out += (i ? " " : "") + command[i];
  return out + "]";
}

std::string Join(const std::vector<std::string>& command) {
  std::string out;
  for (size_t i = 0; i < command.size(); ++i) out += (i ? " " : "") + command[i];
  return out;
}

std::string Where(const HookTarget& target) {
  return " for Container " + selection::GoQuote(target.container_name) + " in Pod " +
         selection::GoQuote(target.pod_label) + " failed - error: ";
}

Status RunExec(const Action& handler, const HookTarget& target, std::chrono::milliseconds timeout) {
  std::string prefix = "Exec lifecycle hook (" + Brackets(handler.command) + ")" + Where(target);
  if (!target.runtime) return UnavailableError(prefix + "no runtime to exec in, message: \"\"");
  int64_t seconds = std::max<int64_t>(1, (timeout.count() + 999) / 1000);
  Result<runtime::ExecSyncResult> r = target.runtime->ExecSync(target.container_id, handler.command, seconds);
  if (!r.ok()) return UnavailableError(prefix + r.status().message() + ", message: \"\"");
  if (r->exit_code == 0) return Status();
  std::string error = "command '" + Join(handler.command) + "' exited with " + std::to_string(r->exit_code) + ": " +
                      r->stderr_data;
  return UnavailableError(prefix + error + ", message: " + selection::GoQuote(r->stdout_data + r->stderr_data));
}

Status RunHttp(const Action& handler, const HookTarget& target, std::chrono::milliseconds timeout) {
  std::string prefix = "HTTP lifecycle hook (" + handler.http.path + ")" + Where(target);
  std::string host = handler.http.host.empty() ? target.pod_ip : handler.http.host;
  if (host.empty()) return UnavailableError(prefix + "failed to find networking container: the pod has no IP");
  Result<int> port = ResolvePort(handler.http.port, target.named_ports, target.container_name);
  if (!port.ok()) return UnavailableError(prefix + port.status().message());
  HttpGetRequest request;
  request.url = FormatUrl(handler.http.scheme, host, *port, handler.http.path);
  request.headers = handler.http.headers;
  request.user_agent = "kube-lifecycle/1.32";
  request.timeout = timeout;
  Result<HttpGetResponse> r = HttpGet(request);
  if (!r.ok()) return UnavailableError(prefix + r.status().message());
  return Status();
}

Status RunSleep(const Action& handler, const HookTarget& target, std::chrono::milliseconds timeout) {
  auto wanted = std::chrono::seconds(handler.sleep_seconds);
  if (wanted <= timeout) {
    std::this_thread::sleep_for(wanted);
    return Status();
  }
  std::this_thread::sleep_for(timeout);
  return UnavailableError("Sleep lifecycle hook (" + std::to_string(handler.sleep_seconds) + ")" + Where(target) +
                          "container terminated before sleep hook finished");
}

}  // namespace

Status RunHook(const Action& handler, const HookTarget& target, std::chrono::milliseconds timeout) {
  switch (handler.kind) {
    case ActionKind::kExec:
      return RunExec(handler, target, timeout);
    case ActionKind::kHttpGet:
      return RunHttp(handler, target, timeout);
    case ActionKind::kSleep:
      return RunSleep(handler, target, timeout);
    case ActionKind::kTcpSocket:
      return InvalidArgumentError("Cannot run handler: invalid handler: tcpSocket is not supported as a lifecycle handler");
    case ActionKind::kGrpc:
    case ActionKind::kNone:
      break;
  }
  return InvalidArgumentError("Cannot run handler: invalid handler: no exec, httpGet or sleep action");
}

namespace {

// The hook `which` ("postStart", "preStop") of the container, nullopt when it has none or it
// is skipped on this runtime.
std::optional<Action> Hook(const HookContainer& c, const char* which) {
  if (!c.spec || !c.spec->IsObject()) return std::nullopt;
  const rapidjson::Value* lifecycle = json::Member(*c.spec, "lifecycle");
  const rapidjson::Value* handler = lifecycle && lifecycle->IsObject() ? json::Member(*lifecycle, which) : nullptr;
  if (!handler || !handler->IsObject()) return std::nullopt;
  Action action = ParseAction(*handler);
  if (c.exec_only && action.kind != ActionKind::kExec) return std::nullopt;
  return action;
}

HookTarget TargetOf(const HookContainer& c) {
  HookTarget t;
  t.runtime = c.runtime;
  t.container_id = c.container_id;
  t.container_name = json::StringMember(*c.spec, "name");
  const rapidjson::Value* md = c.pod ? json::Member(*c.pod, "metadata") : nullptr;
  if (md) {
    t.pod_label = std::string(json::StringMember(*md, "name")) + "_" + std::string(json::StringMember(*md, "namespace")) +
                  "(" + std::string(json::StringMember(*md, "uid")) + ")";
  }
  t.pod_ip = c.pod_ip;
  t.named_ports = NamedPorts(*c.spec);
  return t;
}

}  // namespace

int64_t PodGracePeriodSeconds(const rapidjson::Value& pod) {
  const rapidjson::Value* spec = json::Member(pod, "spec");
  const rapidjson::Value* g = spec ? json::Member(*spec, "terminationGracePeriodSeconds") : nullptr;
  if (!g || !g->IsInt64()) return 30;
  return std::clamp<int64_t>(g->GetInt64(), 0, 1'000'000);
}

Status RunPostStart(const HookContainer& container) {
  std::optional<Action> hook = Hook(container, "postStart");
  if (!hook) return Status();
  return RunHook(*hook, TargetOf(container), kPostStartLimit);
}

Status StopContainer(const HookContainer& container, int64_t grace_seconds) {
  if (!container.runtime) return InvalidArgumentError("no runtime to stop the container in");
  int64_t grace = std::max<int64_t>(0, grace_seconds);
  if (grace > 0) {
    if (std::optional<Action> hook = Hook(container, "preStop")) {
      auto start = std::chrono::steady_clock::now();
      // A failure is Kubernetes' FailedPreStopHook event; the container is stopped anyway.
      (void)RunHook(*hook, TargetOf(container), std::chrono::seconds(grace));
      grace -= std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    }
  }
  grace = std::max(grace, kMinimumGracePeriodSeconds);
  Status s = container.runtime->StopContainer(container.container_id, grace);
  return s.code() == StatusCode::kNotFound ? Status() : s;
}

}  // namespace kite::agent::prober
