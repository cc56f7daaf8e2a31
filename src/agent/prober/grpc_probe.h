// The gRPC probe: one grpc.health.v1.Health/Check call over plaintext HTTP/2 (Kite's own
// client, src/net/grpc), as the kubelet's pkg/probe/grpc does it (messages encoded by hand:
// the request's field 1 is the service name, the response's field 1 the serving status).
//
// Outcomes (all failures are Failure, none Unknown, as in Kubernetes):
//   SERVING → Success; another status → Failure `service unhealthy (responded with
//   "NOT_SERVING")`; no connection (refused at once, or none within the timeout) →
//   `timeout: failed to connect service "HOST:PORT" within 1s`; UNIMPLEMENTED → `this
//   server does not implement the grpc health protocol (grpc.health.v1.Health): ...`; the
//   call's deadline → `timeout: health rpc did not complete within 1s`; any other error →
//   `error: health rpc probe failed: ...`.
// Thread-safety: may run concurrently; blocks for at most about the timeout.
#pragma once

#include <chrono>
#include <string>

#include "src/agent/prober/probe_runner.h"

namespace kite::agent::prober {

ProbeOutcome GrpcProbe(const std::string& host, int port, const std::string& service,
                       std::chrono::milliseconds timeout);

}  // namespace kite::agent::prober
