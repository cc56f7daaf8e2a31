// The probes and lifecycle handlers of a container spec (v1.Probe, v1.LifecycleHandler),
// read from the pod's JSON with Kubernetes' defaults applied.
//
// Defaults (as the API server's defaulting sets them; a value absent, not an integer, or
// below the minimum takes it): timeoutSeconds 1, periodSeconds 10, successThreshold 1,
// failureThreshold 3, initialDelaySeconds 0. Values are capped at a million seconds so
// arithmetic in milliseconds cannot overflow.
//
// Pure functions; thread-safe. Malformed input never fails: a handler with no known action
// has kind kNone (callers treat it as "no probe" or, for a hook, as an invalid handler).
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "src/base/status.h"

namespace kite::agent::prober {

enum class ProbeKind { kLiveness, kReadiness, kStartup };

// "liveness", "readiness", "startup".
const char* KindName(ProbeKind kind);
// The container field: "livenessProbe", "readinessProbe", "startupProbe".
const char* KindField(ProbeKind kind);

// An IntOrString port: a number, or the name of one of the container's ports.
struct PortRef {
  int64_t number = 0;
  std::string name;  // non-empty when the port is given by name
};

enum class ActionKind { kNone, kExec, kHttpGet, kTcpSocket, kGrpc, kSleep };

struct HttpGetAction {
  std::string scheme = "HTTP";  // HTTP or HTTPS (as written; compared case-insensitively)
  std::string host;             // "" = the pod IP
  PortRef port;
  std::string path;
  std::vector<std::pair<std::string, std::string>> headers;  // httpHeaders, in order
};

struct Action {
  ActionKind kind = ActionKind::kNone;
  std::vector<std::string> command;  // exec
  HttpGetAction http;                // httpGet
  std::string host;                  // tcpSocket ("" = the pod IP)
  PortRef port;                      // tcpSocket, grpc (grpc: a number only)
  std::string grpc_service;          // grpc ("" = the server's overall health)
  int64_t sleep_seconds = 0;         // sleep
};

struct ProbeSpec {
  Action action;
  int64_t initial_delay_seconds = 0;
  int64_t timeout_seconds = 1;
  int64_t period_seconds = 10;
  int64_t success_threshold = 1;
  int64_t failure_threshold = 3;
  std::optional<int64_t> termination_grace_period_seconds;  // probe-level override
};

// The action of a probe or lifecycle handler object: the first of exec, httpGet, tcpSocket,
// grpc, sleep that is an object (validation allows only one).
Action ParseAction(const rapidjson::Value& handler);

// The probe object `probe` with defaults; nullopt when it is absent or not an object.
std::optional<ProbeSpec> ParseProbe(const rapidjson::Value* probe);

// The probe of `kind` in a container spec; nullopt when it has none.
std::optional<ProbeSpec> ContainerProbe(const rapidjson::Value& container, ProbeKind kind);

// spec.ports of a container: name → containerPort, for ports that have a name.
std::map<std::string, int64_t> NamedPorts(const rapidjson::Value& container);

// The port number `port` refers to (Kubernetes' probe.ResolveContainerPort).
// kInvalidArgument "couldn't find port: NAME in CONTAINER" for an unknown name, "invalid
// port number: N" outside 1..65535.
Result<int> ResolvePort(const PortRef& port, const std::map<std::string, int64_t>& named_ports,
                        const std::string& container_name);

}  // namespace kite::agent::prober
