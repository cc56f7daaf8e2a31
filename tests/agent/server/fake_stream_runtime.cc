#include "tests/agent/server/fake_stream_runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>

#include "src/server/streaming/socket_connection.h"
#include "src/server/streaming/spdy_session.h"

namespace kite::agent::server::testing {
namespace {

using streaming::SpdySession;
using streaming::SpdyStream;

std::string ReadAll(SpdyStream& stream) {
  std::string out;
  char buffer[8192];
  while (size_t n = stream.Read(buffer, sizeof(buffer))) out.append(buffer, n);
  return out;
}

std::string ExitStatus(int code) {
  return R"({"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: exit status )" +
         std::to_string(code) +
         R"(","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":")" +
         std::to_string(code) + R"("}]}})";
}

constexpr char kSuccess[] = R"({"metadata":{},"status":"Success"})";

void RunRemoteCommand(SpdySession& spdy, const std::string& kind,
                      const runtime::StreamRequest& request) {
  size_t expected = 1 + (request.stdin_open ? 1 : 0) + (request.stdout_open ? 1 : 0) +
                    (request.stderr_open && !request.tty ? 1 : 0) + (request.tty ? 1 : 0);
  std::map<std::string, std::shared_ptr<SpdyStream>> streams;
  while (streams.size() < expected) {
    std::shared_ptr<SpdyStream> stream = spdy.AcceptStream(std::chrono::seconds(10));
    if (!stream) return;
    stream->Reply();
    streams[std::string(stream->Header("streamtype"))] = stream;
  }
  auto write = [&](const char* type, const std::string& data) {
    if (streams.count(type)) (void)streams[type]->Write(data);
  };
  std::string status = kSuccess;
  const std::vector<std::string>& cmd = request.command;
  if (kind == "attach" || (!cmd.empty() && cmd[0] == "cat")) {
    if (streams.count("stdin")) {
      char buffer[4096];
      while (size_t n = streams["stdin"]->Read(buffer, sizeof(buffer))) {
        write("stdout", std::string(buffer, n));
      }
    }
  } else if (!cmd.empty() && cmd[0] == "echo") {
    std::string line;
    for (size_t i = 1; i < cmd.size(); ++i) line += (i > 1 ? " " : "") + cmd[i];
    write("stdout", line + "\n");
  } else if (cmd.size() == 3 && cmd[0] == "sh" && cmd[1] == "-c" && cmd[2].rfind("exit ", 0) == 0) {
    status = ExitStatus(std::atoi(cmd[2].c_str() + 5));
  } else if (cmd.size() == 2 && cmd[0] == "warn") {
    write("stderr", cmd[1]);
  } else {
    status = ExitStatus(127);
  }
  write("error", status);
  for (auto& [type, stream] : streams) stream->Reset();  // as containerd's connection Close
  spdy.Close();
}

void RunPortForward(SpdySession& spdy) {
  std::map<std::string, std::shared_ptr<SpdyStream>> errors;  // by request id
  std::vector<std::thread> threads;
  while (std::shared_ptr<SpdyStream> stream = spdy.AcceptStream()) {
    stream->Reply();
    std::string id(stream->Header("requestid"));
    if (stream->Header("streamtype") == "error") {
      stream->DiscardIncoming();
      errors[id] = stream;
      continue;
    }
    std::shared_ptr<SpdyStream> error = errors[id];
    threads.emplace_back([stream, error] {
      std::string data = ReadAll(*stream);
      (void)stream->Write("echo:" + std::string(stream->Header("port")) + ":" + data);
      (void)stream->CloseWrite();
      if (error) (void)error->CloseWrite();
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace

FakeStreamRuntime::FakeStreamRuntime() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0) {
    std::abort();
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

FakeStreamRuntime::~FakeStreamRuntime() {
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> servers;
  {
    MutexLock lock(mu_);
    servers.swap(servers_);
  }
  for (std::thread& t : servers) t.join();
}

Result<std::string> FakeStreamRuntime::Register(const char* kind,
                                                const runtime::StreamRequest& request) {
  MutexLock lock(mu_);
  requests_.push_back(request);
  kinds_.push_back(kind);
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + kind + "/" +
         std::to_string(requests_.size() - 1);
}

Result<std::string> FakeStreamRuntime::Exec(const runtime::StreamRequest& request) {
  return Register("exec", request);
}
Result<std::string> FakeStreamRuntime::Attach(const runtime::StreamRequest& request) {
  return Register("attach", request);
}
Result<std::string> FakeStreamRuntime::PortForward(const runtime::StreamRequest& request) {
  return Register("portforward", request);
}

std::vector<runtime::StreamRequest> FakeStreamRuntime::requests() const {
  MutexLock lock(mu_);
  return requests_;
}

std::vector<std::string> FakeStreamRuntime::protocols() const {
  MutexLock lock(mu_);
  return protocols_;
}

void FakeStreamRuntime::AcceptLoop() {
  while (true) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    MutexLock lock(mu_);
    servers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void FakeStreamRuntime::Serve(int fd) {
  std::string head;
  char buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      ::close(fd);
      return;
    }
    head.append(buffer, static_cast<size_t>(n));
  }
  size_t end = head.find("\r\n\r\n");
  std::string rest = head.substr(end + 4);
  head.resize(end);
  // "POST /exec/3 HTTP/1.1"
  size_t path_start = head.find(' ') + 1;
  std::string path = head.substr(path_start, head.find(' ', path_start) - path_start);
  std::string kind = path.substr(1, path.find('/', 1) - 1);
  size_t index = std::strtoul(path.c_str() + path.rfind('/') + 1, nullptr, 10);
  std::string protocol;
  size_t header = head.find("X-Stream-Protocol-Version: ");
  if (header != std::string::npos) {
    size_t value = header + std::strlen("X-Stream-Protocol-Version: ");
    protocol = head.substr(value, head.find("\r\n", value) - value);
  }
  runtime::StreamRequest request;
  {
    MutexLock lock(mu_);
    protocols_.push_back(protocol);
    if (index >= requests_.size() || kinds_[index] != kind) {
      std::string not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      (void)::send(fd, not_found.data(), not_found.size(), MSG_NOSIGNAL);
      ::close(fd);
      return;
    }
    request = requests_[index];
  }
  std::string answer = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                       "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: " + protocol + "\r\n\r\n";
  (void)::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
  streaming::SocketConnection connection(fd, rest);
  streaming::SpdySessionOptions options;
  options.server = true;
  SpdySession spdy(connection, options);
  spdy.Start();
  if (kind == "portforward") {
    RunPortForward(spdy);
  } else {
    RunRemoteCommand(spdy, kind, request);
  }
  spdy.Close();
}

}  // namespace kite::agent::server::testing
