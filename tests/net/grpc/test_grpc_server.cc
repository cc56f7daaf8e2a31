#include "tests/net/grpc/test_grpc_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>

namespace kite::net::testing {

using namespace std::chrono_literals;

std::string BigPayload(size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  return out;
}

// ---- the service ----

class TestGrpcServer::Service final : public grpc::CallbackGenericService {
 public:
  ~Service() override {
    stopping_ = true;
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      last_ = SeenCall{};
      last_.method = context->method();
      last_.authority = context->host();
      auto ua = context->client_metadata().find("user-agent");
      if (ua != context->client_metadata().end())
        last_.user_agent = std::string(ua->second.data(), ua->second.size());
      if (context->deadline() < std::chrono::system_clock::now() + std::chrono::hours(24 * 365)) {
        last_.deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                context->deadline() - std::chrono::system_clock::now())
                                .count();
      }
    }
    return new Reactor(this, context->method());
  }

  SeenCall last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  int cancelled() { return cancelled_.load(); }
  void set_stopping() { stopping_ = true; }

 private:
  class Reactor final : public grpc::ServerGenericBidiReactor {
   public:
    Reactor(Service* service, std::string method) : service_(service), method_(std::move(method)) {
      static const char* const kKnown[] = {
          "/test.Echo/Echo",  "/test.Echo/Big",  "/test.Echo/Size",         "/test.Echo/Fail",
          "/test.Echo/Empty", "/test.Echo/Slow", "/test.Echo/WriteThenFail"};
      for (const char* known : kKnown) {
        if (method_ == known) {
          StartRead(&request_);
          return;
        }
      }
      Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "unknown method"));
    }

    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      std::vector<grpc::Slice> slices;
      (void)request_.Dump(&slices);
      std::string bytes;
      for (const grpc::Slice& s : slices)
        bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      if (method_ == "/test.Echo/Echo") {
        Reply(bytes);
      } else if (method_ == "/test.Echo/Big") {
        Reply(BigPayload(std::stoul(bytes)));
      } else if (method_ == "/test.Echo/Size") {
        Reply(std::to_string(bytes.size()));
      } else if (method_ == "/test.Echo/Fail") {
        Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, kOddMessage));
      } else if (method_ == "/test.Echo/WriteThenFail") {
        SetReply("partial");
        StartWrite(&response_);
      } else if (method_ == "/test.Echo/Empty") {
        Finish(grpc::Status::OK);
      } else if (method_ == "/test.Echo/Slow") {
        int ms = std::stoi(bytes);
        std::lock_guard<std::mutex> lock(service_->mu_);
        service_->threads_.emplace_back([this, ms] {
          auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
          while (std::chrono::steady_clock::now() < until && !cancelled_ && !service_->stopping_) {
            std::this_thread::sleep_for(5ms);
          }
          Reply("slow");  // the reactor may be deleted after this: touch nothing more
        });
      }
    }

    void OnWriteDone(bool) override {
      Finish(grpc::Status(grpc::StatusCode::ABORTED, "after a message"));
    }
    void OnCancel() override {
      cancelled_ = true;
      ++service_->cancelled_;
    }
    void OnDone() override { delete this; }

   private:
    void SetReply(const std::string& bytes) {
      grpc::Slice slice(bytes.data(), bytes.size());
      response_ = grpc::ByteBuffer(&slice, 1);
    }
    void Reply(const std::string& bytes) {
      SetReply(bytes);
      StartWriteAndFinish(&response_, grpc::WriteOptions(), grpc::Status::OK);
    }

    Service* service_;
    std::string method_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer response_;
    std::atomic<bool> cancelled_{false};
  };

  std::mutex mu_;
  int calls_ = 0;
  SeenCall last_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> cancelled_{0};
};

TestGrpcServer::TestGrpcServer(const std::string& address) : service_(std::make_unique<Service>()) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterCallbackGenericService(service_.get());
  // Replies of 8 MiB and more: the server's own limits must not be what a test hits.
  builder.SetMaxReceiveMessageSize(64 << 20);
  builder.SetMaxSendMessageSize(64 << 20);
  server_ = builder.BuildAndStart();
  REQUIRE(server_ != nullptr);
  if (address.rfind("unix:", 0) == 0) {
    target_ = address;
  } else {
    REQUIRE(port > 0);
    target_ = "127.0.0.1:" + std::to_string(port);
  }
}

TestGrpcServer::~TestGrpcServer() { Stop(); }

void TestGrpcServer::Stop() {
  if (server_ == nullptr) return;
  service_->set_stopping();
  server_->Shutdown(std::chrono::system_clock::now() + 1s);
  server_->Wait();
  server_.reset();
}

SeenCall TestGrpcServer::last_call() const { return service_->last(); }
int TestGrpcServer::calls() const { return service_->calls(); }
int TestGrpcServer::cancelled() const { return service_->cancelled(); }

// ---- the forwarder ----

TcpForwarder::TcpForwarder(int backend_port) : backend_port_(backend_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listen_fd_ >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(listen_fd_, 64) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port_ = ntohs(addr.sin_port);
  REQUIRE(pipe2(wake_, O_CLOEXEC) == 0);
  thread_ = std::thread([this] { Run(); });
}

TcpForwarder::~TcpForwarder() {
  stop_ = true;
  (void)!write(wake_[1], "x", 1);
  thread_.join();
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void TcpForwarder::DropOnNextData() {
  drop_request_ = true;
  (void)!write(wake_[1], "x", 1);
  // The forwarder thread marks the open connections on its next turn.
  while (drop_request_) std::this_thread::sleep_for(1ms);
}

void TcpForwarder::Run() {
  std::vector<Pair> pairs;
  char buf[65536];
  auto close_pair = [](Pair& p) {
    close(p.client);
    close(p.backend);
    p.client = p.backend = -1;
  };
  while (!stop_) {
    if (drop_request_) {
      for (Pair& p : pairs) p.drop_on_data = true;
      drop_request_ = false;
    }
    std::vector<pollfd> fds = {{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.backend, POLLIN, 0});
    }
    const size_t polled = pairs.size();  // an accepted connection joins on the next turn
    if (poll(fds.data(), fds.size(), 1000) <= 0) continue;
    if (fds[0].revents) {
      (void)!read(wake_[0], buf, sizeof(buf));
      continue;
    }
    if (fds[1].revents & POLLIN) {
      int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        int backend = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(backend_port_));
        if (connect(backend, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
          pairs.push_back({client, backend, false});
          ++accepted_;
        } else {
          close(client);
          close(backend);
        }
      }
    }
    for (size_t i = 0; i < polled; ++i) {
      Pair& p = pairs[i];
      short from_client = fds[2 + 2 * i].revents;
      short from_backend = fds[3 + 2 * i].revents;
      if (from_client) {
        if (p.drop_on_data) {
          close_pair(p);
          continue;
        }
        ssize_t n = read(p.client, buf, sizeof(buf));
        if (n <= 0 || send(p.backend, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) {
          close_pair(p);
          continue;
        }
      }
      if (from_backend) {
        ssize_t n = read(p.backend, buf, sizeof(buf));
        if (n <= 0 || send(p.client, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) close_pair(p);
      }
    }
    std::erase_if(pairs, [](const Pair& p) { return p.client < 0; });
  }
  for (Pair& p : pairs) close_pair(p);
}

// ---- a socket nobody accepts on ----

FullBacklogSocket::FullBacklogSocket() {
  char dir[] = "/tmp/kgrpc-full-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  dir_ = dir;
  path_ = dir_ + "/full.sock";
  listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listen_fd_ >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path_.copy(addr.sun_path, path_.size());
  REQUIRE(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(listen_fd_, 0) == 0);
  // Fill the backlog until a non-blocking connect is refused with EAGAIN.
  for (int i = 0; i < 16; ++i) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd);
      break;
    }
    fillers_.push_back(fd);
  }
}

FullBacklogSocket::~FullBacklogSocket() {
  for (int fd : fillers_) close(fd);
  close(listen_fd_);
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

TempDir::TempDir() {
  char dir[] = "/tmp/kgrpc-test-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  path_ = dir;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace kite::net::testing
