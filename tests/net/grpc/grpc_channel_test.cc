// GrpcChannel against grpc++ servers (the reference implementation) on a unix socket and on
// 127.0.0.1: replies, errors, deadlines, big messages both ways, concurrency, restarts.
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

// Kite's headers before any grpc++ header (both define thread-annotation macros).
#include "src/net/grpc/grpc_channel.h"
#include "tests/net/grpc/test_grpc_server.h"

namespace kite::net {
namespace {

using namespace std::chrono_literals;
using testing::BigPayload;
using testing::TempDir;
using testing::TestGrpcServer;

std::unique_ptr<GrpcChannel> Channel(const std::string& target, GrpcChannelOptions options = {}) {
  auto channel = GrpcChannel::Create(target, std::move(options));
  REQUIRE(channel.ok());
  return std::move(channel).value();
}

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST_CASE("grpc channel: Create checks the target and options, and does not connect") {
  CHECK(GrpcChannel::Create("").status().code() == StatusCode::kInvalidArgument);
  CHECK(GrpcChannel::Create("no-port").status().code() == StatusCode::kInvalidArgument);
  GrpcChannelOptions zero;
  zero.max_receive_message_bytes = 0;
  CHECK(GrpcChannel::Create("unix:/tmp/x.sock", zero).status().code() ==
        StatusCode::kInvalidArgument);
  GrpcChannelOptions no_connect;
  no_connect.connect_timeout = 0ms;
  CHECK(GrpcChannel::Create("127.0.0.1:1", no_connect).status().code() ==
        StatusCode::kInvalidArgument);
  auto channel = Channel("unix:/tmp/kite-grpc-nothing-here.sock");
  CHECK(channel->target() == "unix:/tmp/kite-grpc-nothing-here.sock");
  GrpcReply bad = channel->Call("no-slash", "", 1s);
  CHECK(bad.code == GrpcCode::kInvalidArgument);
}

TEST_CASE("grpc channel: unary calls on a unix socket and on TCP") {
  TempDir dir;
  for (const std::string& address :
       {"unix:" + dir.path() + "/s.sock", std::string("127.0.0.1:0")}) {
    TestGrpcServer server(address);
    GrpcChannelOptions options;
    options.user_agent = "kite-test/7";
    auto channel = Channel(server.target(), options);

    GrpcReply echo = channel->Call("/test.Echo/Echo", std::string("hi\0there", 8), 5s);
    REQUIRE(echo.ok());
    CHECK(echo.response == std::string("hi\0there", 8));
    CHECK(echo.message.empty());
    testing::SeenCall seen = server.last_call();
    CHECK(seen.method == "/test.Echo/Echo");
    CHECK(seen.user_agent.rfind("kite-test/7", 0) == 0);
    CHECK(seen.authority == (address.rfind("unix:", 0) == 0 ? "localhost" : server.target()));
    CHECK(seen.deadline_ms > 3000);  // grpc-timeout arrived
    CHECK(seen.deadline_ms <= 5000);

    GrpcReply empty_request = channel->Call("/test.Echo/Size", "", 5s);
    REQUIRE(empty_request.ok());
    CHECK(empty_request.response == "0");

    GrpcReply forever = channel->Call("/test.Echo/Echo", "x", GrpcChannel::kNoDeadline);
    REQUIRE(forever.ok());
    CHECK(server.last_call().deadline_ms == -1);  // no grpc-timeout sent

    // Many calls in a row reuse the connection and all succeed.
    for (int i = 0; i < 50; ++i) {
      GrpcReply again = channel->Call("/test.Echo/Echo", std::to_string(i), 5s);
      REQUIRE(again.ok());
      CHECK(again.response == std::to_string(i));
    }
  }
}

TEST_CASE("grpc channel: 8 MiB reply and 8 MiB request pass the flow-control windows") {
  TempDir dir;
  for (const std::string& address :
       {"unix:" + dir.path() + "/s.sock", std::string("127.0.0.1:0")}) {
    TestGrpcServer server(address);
    GrpcChannelOptions options;
    options.max_receive_message_bytes = 16 << 20;
    auto channel = Channel(server.target(), options);
    constexpr size_t kBig = 8 << 20;
    for (int round = 0; round < 2; ++round) {  // the second on the reused connection
      auto start = std::chrono::steady_clock::now();
      GrpcReply big = channel->Call("/test.Echo/Big", std::to_string(kBig), 20s);
      REQUIRE(big.ok());
      CHECK(big.response.size() == kBig);
      CHECK(big.response == BigPayload(kBig));
      GrpcReply size = channel->Call("/test.Echo/Size", BigPayload(kBig), 20s);
      REQUIRE(size.ok());
      CHECK(size.response == std::to_string(kBig));
      GrpcReply echo = channel->Call("/test.Echo/Echo", BigPayload(kBig + 3), 20s);
      REQUIRE(echo.ok());
      CHECK(echo.response == BigPayload(kBig + 3));
      CHECK(Since(start) < 10s);
    }
  }
}

TEST_CASE("grpc channel: error statuses, trailers-only or after a message") {
  TestGrpcServer server("127.0.0.1:0");
  auto channel = Channel(server.target());

  GrpcReply fail = channel->Call("/test.Echo/Fail", "", 5s);
  CHECK(fail.code == GrpcCode::kFailedPrecondition);
  CHECK(fail.message == testing::kOddMessage);  // percent-encoded on the wire, decoded here
  CHECK(fail.response.empty());
  CHECK_FALSE(fail.connect_failed);

  GrpcReply late = channel->Call("/test.Echo/WriteThenFail", "", 5s);
  CHECK(late.code == GrpcCode::kAborted);
  CHECK(late.message == "after a message");
  CHECK(late.response.empty());

  GrpcReply unimplemented = channel->Call("/test.Nothing/Here", "", 5s);
  CHECK(unimplemented.code == GrpcCode::kUnimplemented);
  CHECK(unimplemented.message == "unknown method");

  // The server answers before it has read a big request: the call ends with its answer
  // rather than waiting for flow-control windows that will never open.
  auto start = std::chrono::steady_clock::now();
  GrpcReply early = channel->Call("/test.Nothing/Here", BigPayload(8 << 20), 5s);
  CHECK(early.code == GrpcCode::kUnimplemented);
  CHECK(Since(start) < 3s);

  GrpcReply empty = channel->Call("/test.Echo/Empty", "", 5s);
  CHECK(empty.code == GrpcCode::kInternal);

  // Errors leave the connection usable.
  GrpcReply ok = channel->Call("/test.Echo/Echo", "still here", 5s);
  REQUIRE(ok.ok());
  CHECK(ok.response == "still here");
}

TEST_CASE("grpc channel: a reply above the limit is RESOURCE_EXHAUSTED") {
  TestGrpcServer server("127.0.0.1:0");
  GrpcChannelOptions options;
  options.max_receive_message_bytes = 1 << 20;
  auto channel = Channel(server.target(), options);
  GrpcReply at_limit = channel->Call("/test.Echo/Big", std::to_string(1 << 20), 5s);
  REQUIRE(at_limit.ok());
  CHECK(at_limit.response.size() == size_t{1} << 20);
  GrpcReply over = channel->Call("/test.Echo/Big", std::to_string((2 << 20) + 1), 5s);
  CHECK(over.code == GrpcCode::kResourceExhausted);
  CHECK(over.message.find("larger than max") != std::string::npos);
  CHECK(over.response.empty());
  GrpcReply after = channel->Call("/test.Echo/Echo", "next", 5s);
  REQUIRE(after.ok());
  CHECK(after.response == "next");
}

TEST_CASE("grpc channel: deadline exceeded while the server is slow; the channel goes on") {
  TempDir dir;
  TestGrpcServer server("unix:" + dir.path() + "/s.sock");
  auto channel = Channel(server.target());
  REQUIRE(channel->Call("/test.Echo/Echo", "warm", 5s).ok());

  auto start = std::chrono::steady_clock::now();
  GrpcReply slow = channel->Call("/test.Echo/Slow", "3000", 200ms);
  CHECK(slow.code == GrpcCode::kDeadlineExceeded);
  CHECK_FALSE(slow.connect_failed);
  CHECK(Since(start) >= 195ms);
  CHECK(Since(start) < 1000ms);

  // The server saw the call cancelled (our RST_STREAM or its own deadline).
  for (int i = 0; i < 200 && server.cancelled() == 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(server.cancelled() == 1);

  GrpcReply fast = channel->Call("/test.Echo/Slow", "50", 5s);
  REQUIRE(fast.ok());
  CHECK(fast.response == "slow");
  GrpcReply echo = channel->Call("/test.Echo/Echo", "after", 5s);
  REQUIRE(echo.ok());
  CHECK(echo.response == "after");

  // A zero timeout fails at once, without sending anything.
  int calls = server.calls();
  CHECK(channel->Call("/test.Echo/Echo", "x", 0ms).code == GrpcCode::kDeadlineExceeded);
  CHECK(server.calls() == calls);
}

TEST_CASE("grpc channel: no server is UNAVAILABLE at once; a stuck connect times out") {
  TempDir dir;
  auto missing = Channel("unix:" + dir.path() + "/none.sock");
  auto start = std::chrono::steady_clock::now();
  GrpcReply no_socket = missing->Call("/test.Echo/Echo", "x", 10s);
  CHECK(no_socket.code == GrpcCode::kUnavailable);
  CHECK(no_socket.connect_failed);
  CHECK(no_socket.message.find("No such file or directory") != std::string::npos);

  int closed_port = 0;
  {
    TestGrpcServer probe("127.0.0.1:0");
    closed_port = std::stoi(probe.target().substr(probe.target().rfind(':') + 1));
  }
  auto refused_channel = Channel("127.0.0.1:" + std::to_string(closed_port));
  GrpcReply refused = refused_channel->Call("/test.Echo/Echo", "x", 10s);
  CHECK(refused.code == GrpcCode::kUnavailable);
  CHECK(refused.connect_failed);
  CHECK(refused.message.find("Connection refused") != std::string::npos);
  CHECK(Since(start) < 1s);

  testing::FullBacklogSocket full;
  auto stuck = Channel("unix:" + full.path());
  start = std::chrono::steady_clock::now();
  GrpcReply deadline = stuck->Call("/test.Echo/Echo", "x", 300ms);
  CHECK(deadline.code == GrpcCode::kDeadlineExceeded);
  CHECK(deadline.connect_failed);
  CHECK(Since(start) >= 290ms);
  CHECK(Since(start) < 1500ms);

  GrpcChannelOptions quick;
  quick.connect_timeout = 200ms;
  auto stuck_quick = Channel("unix:" + full.path(), quick);
  start = std::chrono::steady_clock::now();
  GrpcReply connect_timeout = stuck_quick->Call("/test.Echo/Echo", "x", 10s);
  CHECK(connect_timeout.code == GrpcCode::kUnavailable);
  CHECK(connect_timeout.connect_failed);
  CHECK(Since(start) < 1500ms);
}

TEST_CASE("grpc channel: 8 threads of concurrent calls on one channel") {
  TempDir dir;
  TestGrpcServer server("unix:" + dir.path() + "/s.sock");
  GrpcChannelOptions options;
  options.max_idle_connections = 3;  // fewer than the threads: connections come and go
  auto channel = Channel(server.target(), options);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 150; ++i) {
        std::string request = std::to_string(t) + ":" + std::to_string(i) +
                              std::string(static_cast<size_t>((i * 997) % 70000), 'p');
        GrpcReply reply = channel->Call("/test.Echo/Echo", request, 10s);
        if (!reply.ok() || reply.response != request) ++failures;
        if (i % 25 == 0) {
          GrpcReply fail = channel->Call("/test.Echo/Fail", "", 10s);
          if (fail.code != GrpcCode::kFailedPrecondition) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(server.calls() == 8 * 150 + 8 * 6);
}

TEST_CASE("grpc channel: a server restarted on the same socket is reached again") {
  TempDir dir;
  const std::string address = "unix:" + dir.path() + "/s.sock";
  auto server = std::make_unique<TestGrpcServer>(address);
  auto channel = Channel(address);
  REQUIRE(channel->Call("/test.Echo/Echo", "before", 5s).ok());

  server->Stop();
  GrpcReply down = channel->Call("/test.Echo/Echo", "while down", 5s);
  CHECK(down.code == GrpcCode::kUnavailable);

  server = std::make_unique<TestGrpcServer>(address);
  GrpcReply after = channel->Call("/test.Echo/Echo", "after", 5s);
  REQUIRE(after.ok());
  CHECK(after.response == "after");

  // Restarted while the channel holds an idle connection: the next call still succeeds.
  server.reset();
  server = std::make_unique<TestGrpcServer>(address);
  GrpcReply again = channel->Call("/test.Echo/Echo", "again", 5s);
  REQUIRE(again.ok());
  CHECK(again.response == "again");
}

TEST_CASE("grpc channel: a pooled connection that died unnoticed is replaced once") {
  TestGrpcServer server("127.0.0.1:0");
  int backend = std::stoi(server.target().substr(server.target().rfind(':') + 1));
  testing::TcpForwarder forwarder(backend);
  auto channel = Channel("127.0.0.1:" + std::to_string(forwarder.port()));
  REQUIRE(channel->Call("/test.Echo/Echo", "first", 5s).ok());
  CHECK(forwarder.accepted() == 1);
  int calls = server.calls();

  // The idle connection looks alive, but the request of the next call is dropped with it.
  forwarder.DropOnNextData();
  GrpcReply reply = channel->Call("/test.Echo/Echo", "second", 5s);
  REQUIRE(reply.ok());
  CHECK(reply.response == "second");
  CHECK(forwarder.accepted() == 2);    // a fresh connection carried the retry
  CHECK(server.calls() == calls + 1);  // the dropped request never reached the server
}

}  // namespace
}  // namespace kite::net
