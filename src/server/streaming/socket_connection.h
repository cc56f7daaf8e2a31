// A byte stream over a connected socket (TCP or one end of a socketpair), in the shape of
// http::UpgradedConnection so the WebSocket and SPDY code runs on it as on an upgraded
// HTTPS connection. Also: connecting to a TCP address.
//
// Operation: Read returns bytes handed in as `prefix` first (what an HTTP client read past
// the end of a 101 response), then bytes from the socket. Write sends everything (no
// SIGPIPE). Close shuts the socket down both ways, which wakes a Read or Write blocked in
// another thread; the descriptor itself is closed by the destructor.
//
// Thread-safety: one reader and one writer may run at once; Close may be called from any
// thread, any number of times. Limits: none of its own (the caller bounds what it reads).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/http/http_types.h"

namespace kite::streaming {

class SocketConnection final : public http::UpgradedConnection {
 public:
  // Takes ownership of `fd` (a connected stream socket).
  explicit SocketConnection(int fd, std::string prefix = "");
  ~SocketConnection() override;
  SocketConnection(const SocketConnection&) = delete;
  SocketConnection& operator=(const SocketConnection&) = delete;

  size_t Read(char* buffer, size_t size) override;
  bool Write(std::string_view data) override;
  void Close() override;

  // Half-close: the peer reads end-of-stream, this side can still read.
  void ShutdownWrite();

  // Bytes to be returned by Read before the socket's (used once, before any Read).
  void SetPrefix(std::string prefix);

  int fd() const { return fd_; }

 private:
  const int fd_;
  Mutex prefix_mu_;
  std::string prefix_ GUARDED_BY(prefix_mu_);
};

// Connects to host:port (an IP literal or a name; IPv6 literals without brackets) within
// `timeout`. kUnavailable naming the address when it cannot connect, kInvalidArgument for
// an unresolvable host or a port outside 1..65535.
Result<std::unique_ptr<SocketConnection>> ConnectTcp(const std::string& host, int port,
                                                     std::chrono::milliseconds timeout);

// Two connected ends of a socketpair (tests). Aborts if the kernel refuses.
struct SocketPair {
  std::unique_ptr<SocketConnection> first;
  std::unique_ptr<SocketConnection> second;
};
SocketPair MakeSocketPair();

}  // namespace kite::streaming
