// The gRPC probe against a hand-made health service on a loopback port. (Kept apart from
// tests that include Kite's thread annotations: grpc++ headers define the same macros.)
#include <grpcpp/grpcpp.h>
#include <grpcpp/generic/async_generic_service.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "src/agent/prober/grpc_probe.h"
#include "tests/agent/prober/test_http_server.h"

namespace kite::agent::prober {
namespace {

using namespace std::chrono_literals;
using testing::ClosedPort;

// grpc.health.v1.Health/Check by hand: service "" and "ready-svc" are SERVING, "down-svc"
// NOT_SERVING, "slow-svc" SERVING after a second, others SERVICE_UNKNOWN; any other method
// (every method when `implemented` is false) is UNIMPLEMENTED.
class HealthService final : public grpc::CallbackGenericService {
 public:
  explicit HealthService(bool implemented = true) : implemented_(implemented) {}
  ~HealthService() override {
    for (std::thread& t : slow_) t.join();
  }

  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* context) override {
    auto agent = context->client_metadata().find("user-agent");
    if (agent != context->client_metadata().end()) {
      std::lock_guard<std::mutex> lock(mu_);
      user_agent_ = std::string(agent->second.data(), agent->second.size());
    }
    return new Reactor(this, implemented_ ? context->method() : "");
  }

  std::string user_agent() {
    std::lock_guard<std::mutex> lock(mu_);
    return user_agent_;
  }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    Reactor(HealthService* service, std::string method) : service_(service), method_(std::move(method)) {
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
      bool slow = service == "slow-svc";
      int status = service.empty() || service == "ready-svc" || slow ? 1 : service == "down-svc" ? 2 : 3;
      std::string out = {0x08, static_cast<char>(status)};
      grpc::Slice slice(out.data(), out.size());
      response_ = grpc::ByteBuffer(&slice, 1);
      if (!slow) {
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
        return;
      }
      std::lock_guard<std::mutex> lock(service_->mu_);
      service_->slow_.emplace_back([this] {
        std::this_thread::sleep_for(1s);
        StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
      });
    }
    void OnDone() override { delete this; }

   private:
    HealthService* service_;
    std::string method_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
  };

  const bool implemented_;
  std::mutex mu_;
  std::string user_agent_;
  std::vector<std::thread> slow_;
};

std::unique_ptr<grpc::Server> Serve(HealthService* health, int* port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), port);
  builder.RegisterCallbackGenericService(health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server);
  REQUIRE(*port > 0);
  return server;
}

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
  CHECK(health.user_agent().rfind("kube-probe/1.32", 0) == 0);
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

TEST_CASE("grpc probe: a slow reply and a server without the health service fail") {
  HealthService health;
  int port = 0;
  std::unique_ptr<grpc::Server> server = Serve(&health, &port);
  auto start = std::chrono::steady_clock::now();
  ProbeOutcome slow = GrpcProbe("127.0.0.1", port, "slow-svc", 300ms);
  CHECK(slow.result == ProbeResult::kFailure);
  CHECK(slow.output == "timeout: health rpc did not complete within 300ms");
  CHECK(std::chrono::steady_clock::now() - start < 900ms);
  CHECK(GrpcProbe("127.0.0.1", port, "slow-svc", 3000ms).result == ProbeResult::kSuccess);
  server->Shutdown();

  HealthService none(/*implemented=*/false);
  int other = 0;
  std::unique_ptr<grpc::Server> plain = Serve(&none, &other);
  ProbeOutcome unimplemented = GrpcProbe("127.0.0.1", other, "", 2000ms);
  CHECK(unimplemented.result == ProbeResult::kFailure);
  CHECK(unimplemented.output ==
        "this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown method");
  plain->Shutdown();
}

}  // namespace
}  // namespace kite::agent::prober
