#include "src/agent/prober/probe_spec.h"

#include <algorithm>

#include "src/server/json/json_util.h"

namespace kite::agent::prober {
namespace {

constexpr int64_t kMaxSeconds = 1'000'000;

// An integer field, or `fallback` when it is absent, not an integer or below `min`.
int64_t IntField(const rapidjson::Value& object, std::string_view name, int64_t fallback, int64_t min) {
  const rapidjson::Value* v = json::Member(object, name);
  if (!v || !v->IsInt64() || v->GetInt64() < min) return fallback;
  return std::min(v->GetInt64(), kMaxSeconds);
}

PortRef ParsePort(const rapidjson::Value* v) {
  PortRef port;
  if (!v) return port;
  if (v->IsInt64()) {
    port.number = v->GetInt64();
  } else if (v->IsString()) {
    port.name.assign(v->GetString(), v->GetStringLength());
  }
  return port;
}

std::string StringField(const rapidjson::Value& object, std::string_view name) {
  return std::string(json::StringMember(object, name));
}

}  // namespace

const char* KindName(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kLiveness:
      return "liveness";
    case ProbeKind::kReadiness:
      return "readiness";
    case ProbeKind::kStartup:
      return "startup";
  }
  return "";
}

const char* KindField(ProbeKind kind) {
  switch (kind) {
    case ProbeKind::kLiveness:
      return "livenessProbe";
    case ProbeKind::kReadiness:
      return "readinessProbe";
    case ProbeKind::kStartup:
      return "startupProbe";
  }
  return "";
}

Action ParseAction(const rapidjson::Value& handler) {
  Action action;
  if (!handler.IsObject()) return action;
  auto object = [&](const char* name) -> const rapidjson::Value* {
    const rapidjson::Value* v = json::Member(handler, name);
    return v && v->IsObject() ? v : nullptr;
  };
  if (const rapidjson::Value* exec = object("exec")) {
    action.kind = ActionKind::kExec;
    if (const rapidjson::Value* command = json::Member(*exec, "command"); command && command->IsArray()) {
      for (const auto& arg : command->GetArray()) {
        if (arg.IsString()) action.command.emplace_back(arg.GetString(), arg.GetStringLength());
      }
    }
  } else if (const rapidjson::Value* http = object("httpGet")) {
    action.kind = ActionKind::kHttpGet;
    std::string scheme = StringField(*http, "scheme");
    if (!scheme.empty()) action.http.scheme = scheme;
    action.http.host = StringField(*http, "host");
    action.http.port = ParsePort(json::Member(*http, "port"));
    action.http.path = StringField(*http, "path");
    if (const rapidjson::Value* headers = json::Member(*http, "httpHeaders"); headers && headers->IsArray()) {
      for (const auto& h : headers->GetArray()) {
        if (!h.IsObject()) continue;
        std::string name = StringField(h, "name");
        if (!name.empty()) action.http.headers.emplace_back(std::move(name), StringField(h, "value"));
      }
    }
  } else if (const rapidjson::Value* tcp = object("tcpSocket")) {
    action.kind = ActionKind::kTcpSocket;
    action.host = StringField(*tcp, "host");
    action.port = ParsePort(json::Member(*tcp, "port"));
  } else if (const rapidjson::Value* grpc = object("grpc")) {
    action.kind = ActionKind::kGrpc;
    action.port = ParsePort(json::Member(*grpc, "port"));
    action.grpc_service = StringField(*grpc, "service");
  } else if (const rapidjson::Value* sleep = object("sleep")) {
    action.kind = ActionKind::kSleep;
    action.sleep_seconds = IntField(*sleep, "seconds", 0, 0);
  }
  return action;
}

std::optional<ProbeSpec> ParseProbe(const rapidjson::Value* probe) {
  if (!probe || !probe->IsObject()) return std::nullopt;
  ProbeSpec spec;
  spec.action = ParseAction(*probe);
  spec.initial_delay_seconds = IntField(*probe, "initialDelaySeconds", 0, 0);
  spec.timeout_seconds = IntField(*probe, "timeoutSeconds", 1, 1);
  spec.period_seconds = IntField(*probe, "periodSeconds", 10, 1);
  spec.success_threshold = IntField(*probe, "successThreshold", 1, 1);
  spec.failure_threshold = IntField(*probe, "failureThreshold", 3, 1);
  if (const rapidjson::Value* g = json::Member(*probe, "terminationGracePeriodSeconds"); g && g->IsInt64()) {
    spec.termination_grace_period_seconds = std::clamp<int64_t>(g->GetInt64(), 0, kMaxSeconds);
  }
  return spec;
}

std::optional<ProbeSpec> ContainerProbe(const rapidjson::Value& container, ProbeKind kind) {
  if (!container.IsObject()) return std::nullopt;
  return ParseProbe(json::Member(container, KindField(kind)));
}

std::map<std::string, int64_t> NamedPorts(const rapidjson::Value& container) {
  std::map<std::string, int64_t> out;
  const rapidjson::Value* ports = container.IsObject() ? json::Member(container, "ports") : nullptr;
  if (!ports || !ports->IsArray()) return out;
  for (const auto& p : ports->GetArray()) {
    if (!p.IsObject()) continue;
    std::string name = StringField(p, "name");
    const rapidjson::Value* number = json::Member(p, "containerPort");
    if (!name.empty() && number && number->IsInt64()) out.emplace(std::move(name), number->GetInt64());
  }
  return out;
}

Result<int> ResolvePort(const PortRef& port, const std::map<std::string, int64_t>& named_ports,
                        const std::string& container_name) {
  int64_t number = port.number;
  if (!port.name.empty()) {
    auto it = named_ports.find(port.name);
    if (it == named_ports.end()) {
      return InvalidArgumentError("couldn't find port: " + port.name + " in " + container_name);
    }
    number = it->second;
  }
  if (number <= 0 || number >= 65536) {
    return InvalidArgumentError("invalid port number: " + std::to_string(number));
  }
  return static_cast<int>(number);
}

}  // namespace kite::agent::prober
