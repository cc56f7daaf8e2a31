// Peers for GrpcChannel tests: a real grpc++ server (the reference implementation) with a
// generic service whose methods exercise the protocol, and a TCP forwarder that can drop
// connections to make a pooled connection die unnoticed.
//
// Methods of TestService (request and reply are raw bytes, not protobuf):
//   /test.Echo/Echo            replies with the request
//   /test.Echo/Big             request "N": replies with N bytes (BigPayload(N))
//   /test.Echo/Size            replies with the request's size in decimal
//   /test.Echo/Fail            fails with FAILED_PRECONDITION kOddMessage (trailers only)
//   /test.Echo/WriteThenFail   sends one message, then fails with ABORTED "after a message"
//   /test.Echo/Empty           OK without a message
//   /test.Echo/Slow            request "MS": replies "slow" after MS milliseconds (sooner
//                              when the call is cancelled or the server stops)
//   anything else              UNIMPLEMENTED "unknown method"
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grpc {
class Server;
}

namespace kite::net::testing {

inline constexpr char kOddMessage[] = "bad \xc3\xa9t\xc3\xa9 100% sure\r\n\ttab %41";

// N bytes of a repeating pattern that catches misordered chunks.
std::string BigPayload(size_t n);

// What the server saw of the last call.
struct SeenCall {
  std::string method;
  std::string authority;
  std::string user_agent;
  long long deadline_ms = -1;  // time left at arrival; -1 when the call had no deadline
};

// A grpc++ server with the test service, listening on `address` ("unix:/path" or
// "127.0.0.1:0"). Stops in the destructor.
class TestGrpcServer {
 public:
  explicit TestGrpcServer(const std::string& address);
  ~TestGrpcServer();

  // "unix:/path" or "127.0.0.1:<port>".
  const std::string& target() const { return target_; }
  SeenCall last_call() const;
  int calls() const;
  int cancelled() const;
  void Stop();

  class Service;

 private:
  std::string target_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

// Forwards TCP connections on 127.0.0.1 to `backend_port`. DropOnNextData(): every
// connection open now is closed as soon as the client sends anything more (the request of
// the next call never reaches the server); connections opened later are forwarded.
class TcpForwarder {
 public:
  explicit TcpForwarder(int backend_port);
  ~TcpForwarder();
  int port() const { return port_; }
  void DropOnNextData();
  int accepted() const { return accepted_.load(); }

 private:
  struct Pair {
    int client;
    int backend;
    bool drop_on_data;
  };
  void Run();

  int backend_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> drop_request_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A unix socket whose listen backlog is full: connecting to it never completes.
class FullBacklogSocket {
 public:
  FullBacklogSocket();
  ~FullBacklogSocket();
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
  int listen_fd_ = -1;
  std::vector<int> fillers_;
};

// A fresh temp folder for sockets, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace kite::net::testing
