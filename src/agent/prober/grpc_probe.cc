#include "src/agent/prober/grpc_probe.h"

#include <algorithm>

#include "src/base/go_duration.h"
#include "src/net/grpc/grpc_channel.h"

namespace kite::agent::prober {
namespace {

constexpr char kCheckMethod[] = "/grpc.health.v1.Health/Check";

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool GetVarint(const std::string& in, size_t& i, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && i < in.size(); shift += 7) {
    uint8_t b = static_cast<uint8_t>(in[i++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return true;
  }
  return false;
}

// HealthCheckResponse.status (field 1, varint); 0 (UNKNOWN) when absent; -1 when malformed.
int64_t ServingStatus(const std::string& message) {
  size_t i = 0;
  int64_t status = 0;
  while (i < message.size()) {
    uint64_t tag = 0, v = 0;
    if (!GetVarint(message, i, tag)) return -1;
    switch (tag & 7) {
      case 0:
        if (!GetVarint(message, i, v)) return -1;
        if (tag >> 3 == 1) status = static_cast<int64_t>(v);
        break;
      case 1:
        i += 8;
        break;
      case 2:
        if (!GetVarint(message, i, v) || v > message.size() - i) return -1;
        i += v;
        break;
      case 5:
        i += 4;
        break;
      default:
        return -1;
    }
  }
  return i == message.size() ? status : -1;
}

const char* StatusName(int64_t status) {
  switch (status) {
    case 0:
      return "UNKNOWN";
    case 1:
      return "SERVING";
    case 2:
      return "NOT_SERVING";
    case 3:
      return "SERVICE_UNKNOWN";
    default:
      return "UNRECOGNIZED";
  }
}

ProbeOutcome Failure(std::string message) { return {ProbeResult::kFailure, std::move(message)}; }

}  // namespace

ProbeOutcome GrpcProbe(const std::string& host, int port, const std::string& service,
                       std::chrono::milliseconds timeout) {
  std::string address =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  const std::string within = FormatGoDuration(std::chrono::nanoseconds(timeout).count());
  timeout = std::max(timeout, std::chrono::milliseconds(1));
  net::GrpcChannelOptions options;
  options.user_agent = "kube-probe/1.32";
  options.connect_timeout = timeout;
  // A fresh connection per probe, as the kubelet dials one per probe.
  options.max_idle_connections = 0;
  auto channel = net::GrpcChannel::Create(address, options);
  if (!channel.ok())
    return Failure("error: health rpc probe failed: " + channel.status().message());
  std::string request;
  if (!service.empty()) {
    request.push_back(0x0a);
    PutVarint(request, service.size());
    request += service;
  }
  // One deadline for connecting and the call together, as the kubelet's context has.
  net::GrpcReply reply = (*channel)->Call(kCheckMethod, request, timeout);
  if (reply.connect_failed) {
    return Failure("timeout: failed to connect service \"" + address + "\" within " + within);
  }
  if (!reply.ok()) {
    if (reply.code == net::GrpcCode::kUnimplemented) {
      return Failure(
          "this server does not implement the grpc health protocol (grpc.health.v1.Health): " +
          reply.message);
    }
    if (reply.code == net::GrpcCode::kDeadlineExceeded) {
      return Failure("timeout: health rpc did not complete within " + within);
    }
    return Failure("error: health rpc probe failed: rpc error: code = " +
                   std::to_string(static_cast<int>(reply.code)) + " desc = " + reply.message);
  }
  int64_t serving = ServingStatus(reply.response);
  if (serving < 0) return Failure("error: health rpc probe failed: malformed HealthCheckResponse");
  if (serving != 1) {
    return Failure(std::string("service unhealthy (responded with \"") + StatusName(serving) +
                   "\")");
  }
  return {ProbeResult::kSuccess, ""};
}

}  // namespace kite::agent::prober
