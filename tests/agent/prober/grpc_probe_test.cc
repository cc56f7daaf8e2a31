// The gRPC probe against a hand-made health service on a loopback port. (Kept apart from
// tests that include Kite's thread annotations: grpc++ headers define the same macros.)
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/async_generic_service.h>

#include <catch2/catch.hpp>

#include "src/agent/prober/grpc_probe.h"
#include "tests/agent/prober/test_http_server.h"

namespace kite::agent::prober {
namespace {

using namespace std::chrono_literals;
using testing::ClosedPort;

// grpc.health.v1.Health/Check by hand: service "" and "ready-svc" are SERVING, "down-svc"
// NOT_SERVING, others SERVICE_UNKNOWN; any other method is UNIMPLEMENTED.
class HealthService final : public grpc::CallbackGenericService {
 public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    return new Reactor(context->method());
  }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    explicit Reactor(std::string method) : method_(std::move(method)) {
      if (method_ != "/grpc.health.v1.Health/Check") {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
        return;
      }
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      std::vector<grpc::Slice> slices;
      (void)request_.Dump(&slices);
      std::string bytes;
      for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      std::string service = bytes.size() > 2 ? bytes.substr(2) : "";  // field 1, short string
      int status = service.empty() || service == "ready-svc" ? 1 : service == "down-svc" ? 2 : 3;
      std::string out = {0x08, static_cast<char>(status)};
      grpc::Slice slice(out.data(), out.size());
      response_ = grpc::ByteBuffer(&slice, 1);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }
    void OnDone() override { delete this; }

   private:
    std::string method_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };
};

TEST_CASE("grpc probe: SERVING succeeds, NOT_SERVING, unimplemented and no server fail") {
  HealthService health;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server);
  REQUIRE(port > 0);

  ProbeOutcome ok = GrpcProbe("127.0.0.1", port, "", 2000ms);
  CHECK(ok.result == ProbeResult::kSuccess);
  CHECK(GrpcProbe("127.0.0.1", port, "ready-svc", 2000ms).result == ProbeResult::kSuccess);
  ProbeOutcome down = GrpcProbe("127.0.0.1", port, "down-svc", 2000ms);
  CHECK(down.result == ProbeResult::kFailure);
  CHECK(down.output == R"x(service unhealthy (responded with "NOT_SERVING"))x");
  ProbeOutcome unknown = GrpcProbe("127.0.0.1", port, "other-svc", 2000ms);
  CHECK(unknown.result == ProbeResult::kFailure);
  CHECK(unknown.output == R"x(service unhealthy (responded with "SERVICE_UNKNOWN"))x");
  server->Shutdown();

  ProbeOutcome refused = GrpcProbe("127.0.0.1", ClosedPort(), "", 300ms);
  CHECK(refused.result == ProbeResult::kFailure);
  CHECK(refused.output.rfind("timeout: failed to connect service \"127.0.0.1:", 0) == 0);
  CHECK(refused.output.find("within 300ms") != std::string::npos);
}

}  // namespace
}  // namespace kite::agent::prober
