#include "src/server/streaming/socket_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace kite::streaming {

SocketConnection::SocketConnection(int fd, std::string prefix) : fd_(fd) {
  MutexLock lock(prefix_mu_);
  prefix_ = std::move(prefix);
}

SocketConnection::~SocketConnection() { ::close(fd_); }

void SocketConnection::SetPrefix(std::string prefix) {
  MutexLock lock(prefix_mu_);
  prefix_ = std::move(prefix);
}

size_t SocketConnection::Read(char* buffer, size_t size) {
  if (size == 0) return 0;
  {
    MutexLock lock(prefix_mu_);
    if (!prefix_.empty()) {
      size_t n = std::min(size, prefix_.size());
      std::memcpy(buffer, prefix_.data(), n);
      prefix_.erase(0, n);
      return n;
    }
  }
  while (true) {
    ssize_t n = ::recv(fd_, buffer, size, 0);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EINTR) continue;
    return 0;  // end of stream, reset or shut down: all mean "no more bytes"
  }
}

bool SocketConnection::Write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void SocketConnection::Close() { ::shutdown(fd_, SHUT_RDWR); }

void SocketConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

Result<std::unique_ptr<SocketConnection>> ConnectTcp(const std::string& host, int port,
                                                     std::chrono::milliseconds timeout) {
  if (port < 1 || port > 65535) {
    return InvalidArgumentError("port " + std::to_string(port) + " is outside 1..65535");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port_text = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found);
  if (rc != 0) {
    return InvalidArgumentError("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                      ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int result = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (result != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (ready <= 0) {
        last_error = ready == 0 ? "timed out" : std::strerror(errno);
        ::close(fd);
        continue;
      }
      int error = 0;
      socklen_t len = sizeof(error);
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
      result = error == 0 ? 0 : -1;
      if (error != 0) errno = error;
    }
    if (result != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    // Blocking from here on: the connection is driven by reader and writer threads.
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    ::freeaddrinfo(found);
    return std::make_unique<SocketConnection>(fd);
  }
  ::freeaddrinfo(found);
  return UnavailableError("cannot connect to " + host + ":" + port_text + ": " + last_error);
}

SocketPair MakeSocketPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    std::fprintf(stderr, "kite: socketpair: %s\n", std::strerror(errno));
    std::abort();
  }
  return {std::make_unique<SocketConnection>(fds[0]), std::make_unique<SocketConnection>(fds[1])};
}

}  // namespace kite::streaming
