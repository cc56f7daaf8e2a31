#include "src/net/http/socket_stream.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <system_error>

#include "src/net/http/url.h"

namespace kite::net::http {
namespace {

// "connection refused": strerror's text, lower-cased as Go prints it.
std::string ErrnoText(int err) {
  std::string text = std::generic_category().message(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

// The BIO under our SSL objects: send(MSG_NOSIGNAL) and recv on the stream's socket, and
// the errno kept for the error message.
struct SocketBio {
  static int Write(BIO* b, const char* data, int len) {
    auto* s = static_cast<SocketStream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    ssize_t n = send(s->fd_, data, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      BIO_set_retry_write(b);
    } else {
      s->bio_errno_ = errno;
    }
    return -1;
  }

  static int Read(BIO* b, char* out, int len) {
    auto* s = static_cast<SocketStream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    ssize_t n = recv(s->fd_, out, static_cast<size_t>(len), 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      BIO_set_retry_read(b);
    } else {
      s->bio_errno_ = errno;
    }
    return -1;
  }

  static long Ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

  static int Create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
  }

  static BIO_METHOD* Method() {
    static BIO_METHOD* const method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kite socket");
      if (m) {
        BIO_meth_set_write(m, &Write);
        BIO_meth_set_read(m, &Read);
        BIO_meth_set_ctrl(m, &Ctrl);
        BIO_meth_set_create(m, &Create);
      }
      return m;
    }();
    return method;
  }
};

SocketStream::SocketStream(SocketOptions options)
    : options_(std::move(options)), wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

SocketStream::~SocketStream() {
  if (ssl_) {
    // close_notify, best effort: the socket is non-blocking, so this never waits.
    if (!broken_ && !shut_down_ && fd_ >= 0) {
      ERR_clear_error();
      SSL_shutdown(ssl_);
    }
    SSL_free(ssl_);
  }
  ERR_clear_error();
  if (fd_ >= 0) close(fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

void SocketStream::Shutdown() {
  shut_down_ = true;
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = write(wake_fd_, &one, sizeof(one));
    (void)n;  // already signalled (counter at its limit) is as good
  }
}

Status SocketStream::Error(const std::string& what, int err) { return UnavailableError(what + ": " + ErrnoText(err)); }

Status SocketStream::Wait(short events, Deadline deadline, const std::string& what) {
  while (true) {
    if (shut_down_) return UnavailableError(what + ": use of closed network connection");
    int timeout_ms = -1;
    if (deadline != kNoDeadline) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        timed_out_ = true;
        return UnavailableError(what + ": i/o timeout");
      }
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      timeout_ms = static_cast<int>(std::min<int64_t>(ms, INT_MAX));
    }
    pollfd fds[2] = {{fd_, events, 0}, {wake_fd_, POLLIN, 0}};
    int rc = poll(fds, 2, timeout_ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return Error(what, errno);
    }
    if (fds[1].revents != 0) continue;  // Shutdown: reported at the top
    if (fds[0].revents != 0) return Status();
  }
}

Status SocketStream::Connect(Deadline deadline) {
  timed_out_ = false;
  if (wake_fd_ < 0) return Error("eventfd", errno);
  KITE_RETURN_IF_ERROR(ConnectTcp(deadline));
  if (options_.tls) KITE_RETURN_IF_ERROR(Handshake(deadline));
  return Status();
}

Status SocketStream::ConnectTcp(Deadline deadline) {
  Url where;
  where.host = options_.host;
  where.port = options_.port;
  const std::string prefix = "dial tcp " + where.HostPort();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (IsIpLiteral(options_.host) ? AI_NUMERICHOST : AI_ADDRCONFIG);
  addrinfo* found = nullptr;
  std::string service = std::to_string(options_.port);
  int gai = getaddrinfo(options_.host.c_str(), service.c_str(), &hints, &found);
  if (gai != 0 || !found) {
    std::string why = gai == EAI_SYSTEM ? ErrnoText(errno) : gai == EAI_NONAME ? "no such host" : gai_strerror(gai);
    return UnavailableError("dial tcp: lookup " + options_.host + ": " + why);
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, &freeaddrinfo);
  Status last = UnavailableError(prefix + ": no address");
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    fd_ = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd_ < 0) {
      last = Error(prefix + ": socket", errno);
      continue;
    }
    int err = 0;
    if (connect(fd_, ai->ai_addr, ai->ai_addrlen) != 0) err = errno;
    if (err == EINPROGRESS) {
      Status waited = Wait(POLLOUT, deadline, prefix);
      if (!waited.ok()) {
        close(fd_);
        fd_ = -1;
        return waited;  // the deadline or Shutdown: no time for other addresses
      }
      socklen_t len = sizeof(err);
      if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0) {
      int one = 1;
      int idle = static_cast<int>(options_.keepalive_idle.count());
      int interval = static_cast<int>(options_.keepalive_interval.count());
      setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      setsockopt(fd_, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
      setsockopt(fd_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
      setsockopt(fd_, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
      return Status();
    }
    last = Error(prefix + ": connect", err);
    close(fd_);
    fd_ = -1;
  }
  return last;
}

Status SocketStream::Handshake(Deadline deadline) {
  Result<SSL*> made = options_.tls->NewSsl(options_.host, options_.port);
  if (!made.ok()) return made.status();
  ssl_ = *made;
  BIO* bio = SocketBio::Method() ? BIO_new(SocketBio::Method()) : nullptr;
  if (!bio) {
    broken_ = true;
    return InternalError("OpenSSL cannot make a socket BIO: " + TakeOpenSslError());
  }
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_, bio, bio);
  SSL_set_connect_state(ssl_);
  while (true) {
    ERR_clear_error();
    bio_errno_ = 0;
    int rc = SSL_do_handshake(ssl_);
    if (rc == 1) return Status();
    int e = SSL_get_error(ssl_, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      KITE_RETURN_IF_ERROR(Wait(e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, "tls handshake"));
      continue;
    }
    broken_ = true;
    long verify = SSL_get_verify_result(ssl_);
    if (options_.tls->verify() && verify != X509_V_OK) {
      ERR_clear_error();
      return UnavailableError(std::string("tls: failed to verify certificate: x509: ") +
                              X509_verify_cert_error_string(verify));
    }
    if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
      std::string openssl = TakeOpenSslError();
      if (bio_errno_ != 0) return Error("tls handshake", bio_errno_);
      return UnavailableError("tls handshake: " + (openssl.empty() ? std::string("EOF") : openssl));
    }
    return UnavailableError("tls handshake: " + TakeOpenSslError());
  }
}

Result<size_t> SocketStream::ReadSome(char* buf, size_t n, Deadline deadline) {
  timed_out_ = false;
  if (n == 0) return size_t{0};
  // Right after a request the answer is not there yet: poll instead of a read that fails.
  if (awaiting_answer_ && fd_ >= 0 && !(ssl_ && SSL_has_pending(ssl_))) {
    KITE_RETURN_IF_ERROR(Wait(POLLIN, deadline, "read"));
  }
  awaiting_answer_ = false;
  while (true) {
    if (shut_down_) return UnavailableError("read: use of closed network connection");
    if (fd_ < 0) return UnavailableError("read: not connected");
    if (!ssl_) {
      ssize_t got = recv(fd_, buf, n, 0);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Error("read", errno);
      KITE_RETURN_IF_ERROR(Wait(POLLIN, deadline, "read"));
      continue;
    }
    ERR_clear_error();
    bio_errno_ = 0;
    int got = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(n, INT_MAX)));
    if (got > 0) return static_cast<size_t>(got);
    switch (SSL_get_error(ssl_, got)) {
      case SSL_ERROR_ZERO_RETURN:
        return size_t{0};
      case SSL_ERROR_WANT_READ:
        KITE_RETURN_IF_ERROR(Wait(POLLIN, deadline, "read"));
        continue;
      case SSL_ERROR_WANT_WRITE:
        KITE_RETURN_IF_ERROR(Wait(POLLOUT, deadline, "read"));
        continue;
      case SSL_ERROR_SYSCALL:
        broken_ = true;
        ERR_clear_error();
        if (bio_errno_ != 0) return Error("read", bio_errno_);
        return size_t{0};  // the peer closed the socket
      default:
        broken_ = true;
        return UnavailableError("read: tls: " + TakeOpenSslError());
    }
  }
}

Status SocketStream::WriteAll(std::string_view data, Deadline deadline) {
  timed_out_ = false;
  awaiting_answer_ = true;
  while (!data.empty()) {
    if (shut_down_) return UnavailableError("write: use of closed network connection");
    if (fd_ < 0) return UnavailableError("write: not connected");
    if (!ssl_) {
      ssize_t put = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (put >= 0) {
        data.remove_prefix(static_cast<size_t>(put));
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return Error("write", errno);
      KITE_RETURN_IF_ERROR(Wait(POLLOUT, deadline, "write"));
      continue;
    }
    ERR_clear_error();
    bio_errno_ = 0;
    int put = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), INT_MAX)));
    if (put > 0) {
      data.remove_prefix(static_cast<size_t>(put));
      continue;
    }
    switch (SSL_get_error(ssl_, put)) {
      case SSL_ERROR_WANT_READ:
        KITE_RETURN_IF_ERROR(Wait(POLLIN, deadline, "write"));
        continue;
      case SSL_ERROR_WANT_WRITE:
        KITE_RETURN_IF_ERROR(Wait(POLLOUT, deadline, "write"));
        continue;
      case SSL_ERROR_SYSCALL:
        broken_ = true;
        ERR_clear_error();
        return bio_errno_ != 0 ? Error("write", bio_errno_) : UnavailableError("write: EOF");
      default:
        broken_ = true;
        return UnavailableError("write: tls: " + TakeOpenSslError());
    }
  }
  return Status();
}

bool SocketStream::IdleAndOpen() {
  if (shut_down_ || broken_ || fd_ < 0) return false;
  if (ssl_ && SSL_pending(ssl_) > 0) return false;
  // Bytes OpenSSL read ahead are not on the socket any more: look at them as at new ones.
  if (!(ssl_ && SSL_has_pending(ssl_))) {
    pollfd p{fd_, POLLIN, 0};
    int rc = poll(&p, 1, 0);
    if (rc == 0) return true;
    if (rc < 0 || !ssl_) return false;  // plain TCP: unexpected bytes, or the peer closed
  }
  // TLS: the bytes may be a post-handshake message (a session ticket), consumed here
  // without application data.
  char byte;
  ERR_clear_error();
  bio_errno_ = 0;
  int got = SSL_read(ssl_, &byte, 1);
  bool open = got <= 0 && SSL_get_error(ssl_, got) == SSL_ERROR_WANT_READ;
  ERR_clear_error();
  if (!open) broken_ = true;
  return open;
}

bool SocketStream::tls_session_reused() const { return ssl_ && SSL_session_reused(ssl_) == 1; }

}  // namespace kite::net::http
