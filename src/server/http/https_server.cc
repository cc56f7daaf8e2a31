// The only translation unit that includes Beast and Asio (they are slow to compile).
//
// Structure: HttpsServerImpl owns the io_context, the TLS context, the acceptor and the
// worker pool. Each accepted connection is a Session whose state is confined to its strand
// (the socket's executor); worker threads only call Handler::Handle and post the result
// back. Sessions are kept alive by the operations and posts that reference them; the server
// keeps weak references so Stop() can close them and wait until the last one is gone.
//
// Upgrades: after "101 Switching Protocols" the session's thread (one per upgraded
// connection, owned by the server) holds an UpgradedConn, which keeps the Session alive and
// turns each blocking Read/Write into one async operation on the strand: at most one read
// and one write are outstanding, which Asio allows on an ssl::stream driven from one strand.
#include "src/server/http/https_server.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <variant>

#include "src/base/elastic_thread_pool.h"
#include "src/base/mutex.h"
#include "src/base/openssl_errors.h"
#include "src/base/percent_encoding.h"

namespace kite::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// How long a connection that is being closed after its response keeps reading (and
// discarding) what the client still sends, so that unread data does not make the kernel
// answer with a reset that could destroy the response before the client read it.
constexpr std::chrono::seconds kLinger{2};
// Handler workers idle this long end, so an idle server holds few threads.
constexpr std::chrono::seconds kHandlerIdleExit{30};
constexpr size_t kPeekBytes = 4096;

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out.append(buf);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// A Kubernetes metav1.Status for the server's own error responses. Written by hand: it is
// small, and RapidJSON 1.1's Writer trips UBSan (null-pointer arithmetic in its stack).
std::string StatusJson(int code, std::string_view reason, std::string_view message) {
  std::string out =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  AppendJsonString(out, message);
  if (!reason.empty()) {
    out += R"(,"reason":)";
    AppendJsonString(out, reason);
  }
  out += R"(,"code":)" + std::to_string(code) + "}";
  return out;
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  asio::ip::address addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  if (addr.is_v6()) return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
  return addr.to_string() + ":" + std::to_string(ep.port());
}

// The subject entries with `nid`, as UTF-8, in order.
std::vector<std::string> SubjectEntries(X509* cert, int nid) {
  std::vector<std::string> out;
  X509_NAME* name = X509_get_subject_name(cert);
  if (name == nullptr) return out;
  for (int idx = X509_NAME_get_index_by_NID(name, nid, -1); idx >= 0;
       idx = X509_NAME_get_index_by_NID(name, nid, idx)) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, idx);
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
    if (len < 0) continue;
    out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
    OPENSSL_free(utf8);
  }
  return out;
}

PeerIdentity ReadPeerIdentity(SSL* ssl) {
  PeerIdentity peer;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return peer;
  peer.has_verified_certificate = true;
  // Go (and so Kubernetes) keeps the last CN when a subject has several.
  std::vector<std::string> cns = SubjectEntries(cert, NID_commonName);
  if (!cns.empty()) peer.common_name = cns.back();
  peer.organizations = SubjectEntries(cert, NID_organizationName);
  return peer;
}

// ALPN: only HTTP/1.1. A client that offers only other protocols (h2) gets the
// no_application_protocol alert, as RFC 7301 asks.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  unsigned char* selected = nullptr;
  unsigned char selected_len = 0;
  if (SSL_select_next_proto(&selected, &selected_len, kHttp11, sizeof kHttp11, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  *outlen = selected_len;
  return SSL_TLSEXT_ERR_OK;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view View(beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool HasLineBreak(std::string_view s) {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

// Status line and the headers every response carries.
template <class Body>
void SetHeaders(bhttp::response<Body>& res, int status, const std::string& content_type,
                const HeaderList& extra, bool close) {
  res.version(11);
  res.result(static_cast<unsigned>(status));
  res.set(bhttp::field::date, HttpDate());
  res.set(bhttp::field::cache_control, "no-cache, private");
  if (!content_type.empty() && !HasLineBreak(content_type)) {
    res.set(bhttp::field::content_type, content_type);
  }
  for (const auto& [name, value] : extra) {
    // The server owns the framing; and no header may smuggle a line break.
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
        IEquals(name, "connection")) {
      continue;
    }
    if (IEquals(name, "cache-control") || IEquals(name, "date") ||
        IEquals(name, "content-type")) {
      res.set(name, value);
    } else {
      res.insert(name, value);
    }
  }
  res.keep_alive(!close);
}

}  // namespace

class Session;

class HttpsServerImpl {
 public:
  HttpsServerImpl(HttpsServerOptions options, Handler* handler)
      : options_(std::move(options)),
        handler_(handler),
        ioc_(options_.network_threads),
        acceptor_(asio::make_strand(ioc_)),
        accept_retry_(acceptor_.get_executor()) {}

  ~HttpsServerImpl() { Stop(); }

  Status ConfigureTls();
  Status Listen();
  void StartThreads();
  void Stop();

  const HttpsServerOptions& options() const { return options_; }
  asio::ssl::context& ssl_context() { return ssl_ctx_; }
  int port() const { return port_; }

  // Runs Handle on a worker, then hands the result to the session. False when the server
  // is stopping (the session should close).
  bool Dispatch(std::shared_ptr<Session> session, Request request);
  void SessionGone(Session* session);
  // Runs an upgraded connection's session on a thread of its own, joined by Stop (or by a
  // later call once it has finished). False when the server is stopping.
  bool StartUpgradeThread(std::function<void()> body);

  std::atomic<int64_t> open_connections{0};
  std::atomic<uint64_t> requests_served{0};
  std::atomic<bool> stopping{false};

 private:
  void DoAccept();
  void OnAccept(error_code ec, tcp::socket socket);
  void RunIo();
  HandlerResult RunHandler(Request& request);

  const HttpsServerOptions options_;
  Handler* const handler_;
  asio::io_context ioc_;
  asio::ssl::context ssl_ctx_{asio::ssl::context::tls_server};
  tcp::acceptor acceptor_;        // used on its own strand only
  asio::steady_timer accept_retry_;  // same strand
  int port_ = 0;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;

  Mutex stop_mu_;  // serializes Stop
  bool stopped_ GUARDED_BY(stop_mu_) = false;

  Mutex pool_mu_;
  std::unique_ptr<ElasticThreadPool> pool_ GUARDED_BY(pool_mu_);

  Mutex upgrade_mu_;
  bool refuse_upgrades_ GUARDED_BY(upgrade_mu_) = false;
  uint64_t next_upgrade_id_ GUARDED_BY(upgrade_mu_) = 0;
  std::map<uint64_t, std::thread> upgrade_threads_ GUARDED_BY(upgrade_mu_);
  std::vector<uint64_t> finished_upgrades_ GUARDED_BY(upgrade_mu_);  // to be joined

  Mutex mu_;
  bool refuse_sessions_ GUARDED_BY(mu_) = false;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_ GUARDED_BY(mu_);
  CondVar sessions_changed_;
};

// One TLS connection. Everything but Wake() and OnHandled() runs on the strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpsServerImpl& server, tcp::socket socket, std::string remote)
      : registration_(server),
        server_(server),
        opts_(server.options()),
        strand_(socket.get_executor()),
        tls_(std::move(socket), server.ssl_context()),
        timer_(strand_),
        remote_(std::move(remote)) {}

  ~Session() {
    // Defensive: every close path cancels first, so this finds nothing to do.
    if (body_stream_ && stream_started_ && !stream_ended_) body_stream_->Cancel();
  }

  void Run() {
    asio::post(strand_, [self = shared_from_this()] { self->DoHandshake(); });
  }
  void Shutdown() {
    asio::post(strand_, [self = shared_from_this()] { self->Close(); });
  }

  // From a worker thread.
  void OnHandled(HandlerResult result) {
    auto holder = std::make_shared<HandlerResult>(std::move(result));
    asio::post(strand_, [self = shared_from_this(), holder] {
      self->WriteResult(std::move(*holder));
    });
  }

  // Called once, right after construction, under the server's session lock.
  void Register() { registration_.session = this; }

  // From an upgraded connection's threads: one read or write on the strand; `done` runs on
  // the strand with the bytes read (0 = the connection is over) or whether all was written.
  void UpgradeRead(char* data, size_t size, std::function<void(size_t)> done) {
    asio::post(strand_, [self = shared_from_this(), data, size, done = std::move(done)]() mutable {
      self->DoUpgradeRead(data, size, std::move(done));
    });
  }
  void UpgradeWrite(std::string_view data, std::function<void(bool)> done) {
    asio::post(strand_, [self = shared_from_this(), data, done = std::move(done)]() mutable {
      self->DoUpgradeWrite(data, std::move(done));
    });
  }
  // The session closed the connection or returned: a blocked Read returns 0 and a blocked
  // Write false; what was written already is followed by FIN, then the connection is
  // closed after a short drain (so unread client bytes do not turn into a reset that could
  // destroy the last bytes sent).
  void UpgradeClose() {
    asio::post(strand_, [self = shared_from_this()] { self->DoUpgradeClose(); });
  }

  // From any thread: the response stream has something for us. Posts coalesce.
  void Wake() {
    if (wake_posted_.exchange(true)) return;
    asio::post(strand_, [self = shared_from_this()] {
      self->wake_posted_ = false;
      self->PollStream();
    });
  }

 private:
  void DoHandshake() {
    if (closed_) return;
    SetDeadline(opts_.request_timeout);
    tls_.async_handshake(asio::ssl::stream_base::server,
                         [self = shared_from_this()](error_code ec) { self->OnHandshake(ec); });
  }

  void OnHandshake(error_code ec) {
    if (closed_) return;
    if (ec) return Close();
    peer_ = ReadPeerIdentity(tls_.native_handle());
    NextRequest();
  }

  // --- timeouts -------------------------------------------------------------------------

  void SetDeadline(std::chrono::steady_clock::duration d) {
    uint64_t gen = ++deadline_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this(), gen](error_code ec) {
      // A wait whose deadline was replaced may still complete without error; the
      // generation tells it apart.
      if (ec || gen != self->deadline_gen_) return;
      self->Close();
    });
  }

  void ClearDeadline() {
    ++deadline_gen_;
    timer_.cancel();
  }

  // --- reading requests -----------------------------------------------------------------

  // After a response (or the handshake): wait for the next request on this connection.
  void NextRequest() {
    if (peek_in_flight_) {  // then the buffer is empty; the peek brings the next bytes
      awaiting_request_ = true;
      SetDeadline(opts_.idle_timeout);
      return;
    }
    if (buffer_.size() > 0) return ReadRequest();  // pipelined: already here
    awaiting_request_ = true;
    SetDeadline(opts_.idle_timeout);
    StartPeek();
  }

  // A read of whatever arrives, while idle (the first bytes of a request end the idle
  // time) or while a request is being served (an error means the client went away). Armed
  // only when the buffer is empty, so a peek never holds back a buffered request.
  void StartPeek() {
    if (peek_in_flight_ || closed_ || buffer_.size() > 0) return;
    peek_in_flight_ = true;
    tls_.async_read_some(buffer_.prepare(kPeekBytes),
                         [self = shared_from_this()](error_code ec, size_t n) {
                           self->OnPeek(ec, n);
                         });
  }

  void OnPeek(error_code ec, size_t n) {
    peek_in_flight_ = false;
    if (closed_) {
      // Cancelled by DoUpgradeClose, which left the draining to this completion.
      if (draining_ && (!ec || ec == asio::error::operation_aborted)) return Drain();
      return Close();
    }
    if (upgraded_) {  // the peek armed while the handler ran brought the first raw bytes
      if (ec) {
        upgrade_eof_ = true;
      } else {
        buffer_.commit(n);
      }
      if (pending_read_) {
        PendingRead read = std::move(*pending_read_);
        pending_read_.reset();
        DoUpgradeRead(read.data, read.size, std::move(read.done));
      }
      return;
    }
    if (ec) return Close();  // the client closed (or the idle timer did)
    buffer_.commit(n);
    if (awaiting_request_) ReadRequest();
  }

  void ReadRequest() {
    awaiting_request_ = false;
    parser_.emplace();
    parser_->body_limit(opts_.max_body_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<size_t>(opts_.max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    SetDeadline(opts_.request_timeout);
    bhttp::async_read_header(tls_, buffer_, *parser_,
                             [self = shared_from_this()](error_code ec, size_t) {
                               self->OnHeader(ec);
                             });
  }

  void OnHeader(error_code ec) {
    if (closed_) return;
    if (ec) return OnReadError(ec);
    const auto& req = parser_->get();
    if (!parser_->is_done() && IEquals(View(req[bhttp::field::expect]), "100-continue")) {
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(tls_, asio::buffer(kContinue, sizeof kContinue - 1),
                        [self = shared_from_this()](error_code ec, size_t) {
                          if (self->closed_) return;
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) return OnRequest();
    bhttp::async_read(tls_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
      if (self->closed_) return;
      if (ec) return self->OnReadError(ec);
      self->OnRequest();
    });
  }

  void OnReadError(error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "RequestEntityTooLarge",
                       "Request entity too large: limit is " +
                           std::to_string(opts_.max_body_bytes));
    }
    if (ec == bhttp::error::header_limit) {
      return SendError(431, "", "Request header fields too large");
    }
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
      return Close();  // the client closed, between or in the middle of requests
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return SendError(400, "BadRequest", "Malformed HTTP request: " + ec.message());
    }
    Close();  // I/O or TLS failure, or a timeout closed the socket
  }

  void OnRequest() {
    ClearDeadline();
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();
    keep_alive_ = msg.keep_alive();

    Request req;
    req.method = std::string(View(msg.method_string()));
    req.target = std::string(View(msg.target()));
    std::string_view target = req.target;
    // Absolute form (https://host/path) is allowed by HTTP/1.1; serve its path.
    for (std::string_view scheme : {"https://", "http://"}) {
      if (target.size() >= scheme.size() && IEquals(target.substr(0, scheme.size()), scheme)) {
        size_t slash = target.find('/', scheme.size());
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        break;
      }
    }
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    if ((raw_path.empty() || raw_path[0] != '/') && raw_path != "*") {
      return SendError(400, "BadRequest", "Malformed HTTP request: the target is not a path");
    }
    if (!PercentDecode(raw_path, /*plus_is_space=*/false, req.path)) {
      return SendError(400, "BadRequest", "Malformed HTTP request: invalid escape in the path");
    }
    req.headers.reserve(static_cast<size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& field : msg) {
      std::string name(View(field.name_string()));
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(View(field.value())));
    }
    req.body = std::move(msg.body());
    req.peer = peer_;
    req.remote_address = remote_;

    StartPeek();  // notice a client that goes away while the handler runs or a stream flows
    if (!server_.Dispatch(shared_from_this(), std::move(req))) Close();
  }

  // --- writing responses ----------------------------------------------------------------

  void WriteResult(HandlerResult result) {
    if (closed_) return;  // the client is gone; an unstarted stream is just destroyed
    if (auto* full = std::get_if<Response>(&result)) {
      return WriteFull(full->status, full->content_type, full->headers, std::move(full->body),
                       !keep_alive_);
    }
    if (auto* upgrade = std::get_if<UpgradeResponse>(&result)) {
      if (!upgrade->session) {
        return WriteFull(500, "application/json", {},
                         StatusJson(500, "InternalError", "invalid upgrade response"), true);
      }
      return WriteUpgrade(std::move(*upgrade));
    }
    auto& streaming = std::get<StreamingResponse>(result);
    if (!streaming.stream || streaming.status < 200 || streaming.status > 599 ||
        streaming.status == 204 || streaming.status == 304) {
      return WriteFull(500, "application/json", {},
                       StatusJson(500, "InternalError", "invalid streaming response"),
                       !keep_alive_);
    }
    ++server_.requests_served;
    body_stream_ = std::move(streaming.stream);
    stream_header_ = std::make_unique<bhttp::response<bhttp::empty_body>>();
    SetHeaders(*stream_header_, streaming.status, streaming.content_type, streaming.headers,
               !keep_alive_);
    stream_header_->chunked(true);
    stream_serializer_ =
        std::make_unique<bhttp::response_serializer<bhttp::empty_body>>(*stream_header_);
    SetDeadline(opts_.request_timeout);
    bhttp::async_write_header(tls_, *stream_serializer_,
                              [self = shared_from_this()](error_code ec, size_t) {
                                self->OnStreamHeaderWritten(ec);
                              });
  }

  // --- upgrades ---------------------------------------------------------------------------

  void WriteUpgrade(UpgradeResponse upgrade) {
    ++server_.requests_served;
    upgraded_ = true;
    upgrade_session_ = std::move(upgrade.session);
    upgrade_head_ = "HTTP/1.1 101 Switching Protocols\r\n";
    bool has_connection = false;
    for (const auto& [name, value] : upgrade.headers) {
      // No framing headers (the connection carries raw bytes from here on), nothing that
      // could smuggle a line or break the header syntax.
      if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
          name.find_first_of(": \t") != std::string::npos || IEquals(name, "content-length") ||
          IEquals(name, "transfer-encoding")) {
        continue;
      }
      if (IEquals(name, "connection")) has_connection = true;
      upgrade_head_ += name + ": " + value + "\r\n";
    }
    if (!has_connection) upgrade_head_ += "Connection: Upgrade\r\n";
    upgrade_head_ += "\r\n";
    SetDeadline(opts_.request_timeout);
    asio::async_write(tls_, asio::buffer(upgrade_head_),
                      [self = shared_from_this()](error_code ec, size_t) {
                        self->OnUpgradeHeadWritten(ec);
                      });
  }

  void OnUpgradeHeadWritten(error_code ec);  // below UpgradedConn

  void DoUpgradeRead(char* data, size_t size, std::function<void(size_t)> done) {
    if (closed_ || upgrade_eof_) return done(0);
    if (buffer_.size() > 0) {  // bytes that came with (or after) the request head first
      size_t n = asio::buffer_copy(asio::buffer(data, size), buffer_.data());
      buffer_.consume(n);
      return done(n);
    }
    if (peek_in_flight_) {  // it completes into buffer_; OnPeek serves this read then
      pending_read_ = PendingRead{data, size, std::move(done)};
      return;
    }
    upgrade_read_in_flight_ = true;
    tls_.async_read_some(asio::buffer(data, size), [self = shared_from_this(),
                                                    done = std::move(done)](error_code ec,
                                                                            size_t n) {
      self->upgrade_read_in_flight_ = false;
      if (ec || n == 0 || self->closed_) {
        self->upgrade_eof_ = true;
        n = 0;
      }
      done(n);
      if (self->closed_ && self->draining_) self->Drain();  // DoUpgradeClose left it to us
    });
  }

  void DoUpgradeClose() {
    if (closed_) return;
    if (pending_read_) {
      std::function<void(size_t)> done = std::move(pending_read_->done);
      pending_read_.reset();
      done(0);
    }
    bool read_pending = peek_in_flight_ || upgrade_read_in_flight_;
    closed_ = true;
    draining_ = true;
    error_code ignored;
    // Ends a blocked read or write now; their completions see closed_.
    tls_.next_layer().cancel(ignored);
    tls_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
    SetDeadline(kLinger);
    if (!read_pending) Drain();
  }

  void DoUpgradeWrite(std::string_view data, std::function<void(bool)> done) {
    if (closed_) return done(false);
    asio::async_write(tls_, asio::buffer(data.data(), data.size()),
                      [self = shared_from_this(), done = std::move(done)](error_code ec, size_t) {
                        done(!ec && !self->closed_);
                      });
  }

  void SendError(int status, std::string_view reason, const std::string& message) {
    keep_alive_ = false;
    WriteFull(status, "application/json", {}, StatusJson(status, reason, message), true);
  }

  void WriteFull(int status, const std::string& content_type, const HeaderList& headers,
                 std::string body, bool close) {
    if (status < 200 || status > 599) {
      body = StatusJson(500, "InternalError", "handler returned status " + std::to_string(status));
      status = 500;
    }
    if (status == 204 || status == 304) body.clear();  // these carry no body
    ++server_.requests_served;
    full_response_ = std::make_unique<bhttp::response<bhttp::string_body>>();
    SetHeaders(*full_response_, status, content_type, headers, close);
    full_response_->body() = std::move(body);
    full_response_->prepare_payload();
    SetDeadline(opts_.request_timeout);
    bhttp::async_write(tls_, *full_response_,
                       [self = shared_from_this(), close](error_code ec, size_t) {
                         self->full_response_.reset();
                         if (self->closed_) return;
                         self->ClearDeadline();
                         if (ec) return self->Close();
                         self->ResponseDone(close);
                       });
  }

  void ResponseDone(bool close) {
    if (close || server_.stopping) return GracefulClose();
    NextRequest();
  }

  void OnStreamHeaderWritten(error_code ec) {
    stream_serializer_.reset();
    stream_header_.reset();
    if (closed_) return;
    ClearDeadline();
    if (ec) return Close();
    stream_started_ = true;
    // Between chunks no operation may be pending (the peek is not armed when pipelined
    // bytes wait in the buffer), so the open stream itself keeps the session alive.
    stream_hold_ = shared_from_this();
    std::weak_ptr<Session> weak = stream_hold_;
    body_stream_->Start([weak] {
      // The session may be gone (or going) by now: then there is nothing to wake.
      if (auto self = weak.lock()) self->Wake();
    });
    PollStream();  // whatever is ready already
  }

  void PollStream() {
    if (closed_ || !body_stream_ || !stream_started_ || stream_ended_) return;
    if (!body_stream_->Poll(pending_)) stream_ended_ = true;
    if (pending_.size() + chunk_.size() > opts_.max_stream_backlog_bytes) {
      return Close();  // a client too slow for this stream; it will re-request
    }
    WriteChunk();
  }

  void WriteChunk() {
    if (chunk_in_flight_ || closed_) return;
    if (pending_.empty() && !stream_ended_) return;
    chunk_.clear();
    if (!pending_.empty()) {
      char size_line[32];
      int n = std::snprintf(size_line, sizeof size_line, "%zx\r\n", pending_.size());
      chunk_.reserve(pending_.size() + static_cast<size_t>(n) + 7);
      chunk_.append(size_line, static_cast<size_t>(n));
      chunk_.append(pending_);
      chunk_.append("\r\n");
      pending_.clear();
    }
    bool last = stream_ended_;
    if (last) chunk_.append("0\r\n\r\n");
    chunk_in_flight_ = true;
    SetDeadline(opts_.request_timeout);
    asio::async_write(tls_, asio::buffer(chunk_),
                      [self = shared_from_this(), last](error_code ec, size_t) {
                        self->OnChunkWritten(ec, last);
                      });
  }

  void OnChunkWritten(error_code ec, bool last) {
    chunk_in_flight_ = false;
    if (chunk_.capacity() > (1u << 20)) {
      std::string().swap(chunk_);  // do not keep a burst's buffer for the stream's life
    } else {
      chunk_.clear();
    }
    if (closed_) return;
    ClearDeadline();
    if (ec) return Close();
    if (last) {
      stream_hold_.reset();  // pending operations keep the session from here on
      body_stream_.reset();
      stream_started_ = false;
      stream_ended_ = false;
      return ResponseDone(!keep_alive_);
    }
    WriteChunk();
  }

  // --- closing --------------------------------------------------------------------------

  // Ends the connection now: cancels a running stream and closes the socket. Every pending
  // operation then completes with an error and releases the session.
  void Close() {
    closed_ = true;
    draining_ = false;
    ClearDeadline();
    if (pending_read_) {  // an upgraded reader waiting for the peek
      std::function<void(size_t)> done = std::move(pending_read_->done);
      pending_read_.reset();
      done(0);
    }
    if (body_stream_ && stream_started_ && !stream_ended_) body_stream_->Cancel();
    body_stream_.reset();
    stream_hold_.reset();
    error_code ignored;
    tls_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    tls_.next_layer().close(ignored);
  }

  // After a response that ends the connection: send FIN, then discard what the client
  // still sends for a short while before closing.
  void GracefulClose() {
    closed_ = true;
    draining_ = true;
    error_code ignored;
    tls_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
    SetDeadline(kLinger);
    if (!peek_in_flight_) Drain();
  }

  void Drain() {
    tls_.next_layer().async_read_some(
        asio::buffer(drain_buf_), [self = shared_from_this()](error_code ec, size_t) {
          if (ec || !self->draining_) return self->Close();
          self->Drain();
        });
  }

  // Tells the server the session is gone. The first member, so it is destroyed last: after
  // the socket and the timer, which must go before the io_context does.
  struct Registration {
    explicit Registration(HttpsServerImpl& s) : server(s) { ++server.open_connections; }
    ~Registration() {
      --server.open_connections;
      server.SessionGone(session);
    }
    HttpsServerImpl& server;
    Session* session = nullptr;
  };

  Registration registration_;
  HttpsServerImpl& server_;
  const HttpsServerOptions& opts_;
  const asio::any_io_executor strand_;
  beast::ssl_stream<tcp::socket> tls_;
  asio::steady_timer timer_;
  uint64_t deadline_gen_ = 0;
  const std::string remote_;
  PeerIdentity peer_;

  bool closed_ = false;
  bool draining_ = false;
  bool keep_alive_ = true;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool peek_in_flight_ = false;
  bool awaiting_request_ = false;
  std::array<char, 16384> drain_buf_;

  std::unique_ptr<bhttp::response<bhttp::string_body>> full_response_;

  std::unique_ptr<bhttp::response<bhttp::empty_body>> stream_header_;
  std::unique_ptr<bhttp::response_serializer<bhttp::empty_body>> stream_serializer_;
  std::unique_ptr<ResponseStream> body_stream_;
  std::shared_ptr<Session> stream_hold_;  // set while a stream is open (a deliberate cycle)
  bool stream_started_ = false;
  bool stream_ended_ = false;  // Poll returned false
  std::string pending_;        // polled, not yet handed to the socket
  std::string chunk_;          // being written
  bool chunk_in_flight_ = false;
  std::atomic<bool> wake_posted_{false};

  // After a 101 (all on the strand).
  bool upgraded_ = false;
  bool upgrade_eof_ = false;             // the client closed its side
  bool upgrade_read_in_flight_ = false;  // a reader's async_read_some
  std::string upgrade_head_;             // the 101 response being written
  std::function<void(UpgradedConnection&)> upgrade_session_;
  struct PendingRead {
    char* data;
    size_t size;
    std::function<void(size_t)> done;
  };
  std::optional<PendingRead> pending_read_;  // a read waiting for the in-flight peek
};

// The connection after a 101, as the session's thread sees it: each call is one operation
// on the session's strand and a blocking wait for it. The mutexes keep a careless caller
// from having two reads (or two writes) outstanding.
class UpgradedConn final : public UpgradedConnection {
 public:
  explicit UpgradedConn(std::shared_ptr<Session> session) : session_(std::move(session)) {}

  size_t Read(char* buffer, size_t size) override {
    if (size == 0 || closed_) return 0;
    MutexLock l(read_mu_);
    auto result = std::make_shared<std::promise<size_t>>();
    std::future<size_t> future = result->get_future();
    session_->UpgradeRead(buffer, size, [result](size_t n) { result->set_value(n); });
    return future.get();
  }

  bool Write(std::string_view data) override {
    if (closed_) return false;
    if (data.empty()) return true;
    MutexLock l(write_mu_);
    auto result = std::make_shared<std::promise<bool>>();
    std::future<bool> future = result->get_future();
    session_->UpgradeWrite(data, [result](bool ok) { result->set_value(ok); });
    return future.get();
  }

  void Close() override {
    if (!closed_.exchange(true)) session_->UpgradeClose();
  }

  // The session function returned.
  void Finish() { Close(); }

 private:
  const std::shared_ptr<Session> session_;
  std::atomic<bool> closed_{false};
  Mutex read_mu_;
  Mutex write_mu_;
};

void Session::OnUpgradeHeadWritten(error_code ec) {
  std::string().swap(upgrade_head_);
  if (closed_) return;
  ClearDeadline();  // upgraded connections have no timeouts; Stop ends them
  if (ec) return Close();
  auto connection = std::make_shared<UpgradedConn>(shared_from_this());
  auto body = [connection, session = std::move(upgrade_session_)] {
    try {
      session(*connection);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kite https: exception in an upgraded session: %s\n", e.what());
    } catch (...) {
      std::fprintf(stderr, "kite https: exception in an upgraded session\n");
    }
    connection->Finish();
  };
  if (!server_.StartUpgradeThread(std::move(body))) Close();
}

// --- HttpsServerImpl ----------------------------------------------------------------------

Status HttpsServerImpl::ConfigureTls() {
  SSL_CTX* ctx = ssl_ctx_.native_handle();
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return InternalError("TLS: cannot set the minimum version: " + TakeOpenSslErrors("unknown OpenSSL error"));
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  error_code ec;
  ssl_ctx_.use_certificate_chain(asio::buffer(options_.server_cert_pem), ec);
  if (ec) return InvalidArgumentError("TLS: bad serving certificate: " + ec.message());
  ssl_ctx_.use_private_key(asio::buffer(options_.server_key_pem), asio::ssl::context::pem, ec);
  if (ec) return InvalidArgumentError("TLS: bad serving key: " + ec.message());
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return InvalidArgumentError("TLS: the serving key does not match the certificate: " +
                                TakeOpenSslErrors("unknown OpenSSL error"));
  }
  if (!options_.client_ca_pem.empty()) {
    BIO* bio = BIO_new_mem_buf(options_.client_ca_pem.data(),
                               static_cast<int>(options_.client_ca_pem.size()));
    if (bio == nullptr) return InternalError("TLS: out of memory");
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    int added = 0;
    while (X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      bool ok = X509_STORE_add_cert(store, ca) == 1 && SSL_CTX_add_client_CA(ctx, ca) == 1;
      X509_free(ca);
      if (!ok) {
        BIO_free(bio);
        return InvalidArgumentError("TLS: cannot add a client CA: " + TakeOpenSslErrors("unknown OpenSSL error"));
      }
      ++added;
    }
    BIO_free(bio);
    ERR_clear_error();  // the loop ends on "no start line"
    if (added == 0) return InvalidArgumentError("TLS: client_ca_pem holds no certificate");
    // Ask for a certificate, do not require one; one that fails verification fails the
    // handshake.
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Needed for session resumption when client certificates are verified.
    static const unsigned char kSessionContext[] = "kite-https";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  }
  SSL_CTX_set_alpn_select_cb(ctx, SelectAlpn, nullptr);
  return Status::Ok();
}

Status HttpsServerImpl::Listen() {
  error_code ec;
  asio::ip::address addr = asio::ip::make_address(options_.bind_address, ec);
  if (ec) return InvalidArgumentError("bind address \"" + options_.bind_address + "\" is not an IP address");
  tcp::endpoint ep(addr, static_cast<unsigned short>(options_.port));
  std::string where = options_.bind_address + ":" + std::to_string(options_.port);
  acceptor_.open(ep.protocol(), ec);
  if (ec) return UnavailableError("cannot open a socket for " + where + ": " + ec.message());
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) return UnavailableError("cannot set SO_REUSEADDR: " + ec.message());
  acceptor_.bind(ep, ec);
  if (ec) return UnavailableError("cannot bind " + where + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + where + ": " + ec.message());
  port_ = acceptor_.local_endpoint(ec).port();
  if (ec) return UnavailableError("cannot read the bound port: " + ec.message());
  return Status::Ok();
}

void HttpsServerImpl::StartThreads() {
  {
    MutexLock l(pool_mu_);
    pool_ = std::make_unique<ElasticThreadPool>(static_cast<size_t>(options_.handler_threads),
                                                kHandlerIdleExit);
  }
  work_.emplace(asio::make_work_guard(ioc_));
  for (int i = 0; i < options_.network_threads; ++i) {
    io_threads_.emplace_back([this] { RunIo(); });
  }
  asio::post(acceptor_.get_executor(), [this] { DoAccept(); });
}

void HttpsServerImpl::RunIo() {
  for (;;) {
    try {
      ioc_.run();
      return;
    } catch (const std::exception& e) {
      // A bug (or allocation failure) in a completion handler; keep the thread serving.
      std::fprintf(stderr, "kite https: unexpected exception on a network thread: %s\n",
                   e.what());
    }
  }
}

void HttpsServerImpl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void HttpsServerImpl::OnAccept(error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of file descriptors and the like: breathe, then accept again.
    accept_retry_.expires_after(std::chrono::milliseconds(50));
    accept_retry_.async_wait([this](error_code wait_ec) {
      if (!wait_ec && acceptor_.is_open()) DoAccept();
    });
    return;
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // stream chunks must not wait for Nagle
  std::string remote = FormatEndpoint(socket.remote_endpoint(ignored));
  std::shared_ptr<Session> session;
  {
    MutexLock l(mu_);
    if (refuse_sessions_) return;  // stopping; the socket closes here
    session = std::make_shared<Session>(*this, std::move(socket), std::move(remote));
    session->Register();
    sessions_.emplace(session.get(), session);
  }
  session->Run();
  DoAccept();
}

bool HttpsServerImpl::Dispatch(std::shared_ptr<Session> session, Request request) {
  MutexLock l(pool_mu_);
  if (!pool_) return false;
  return pool_->Post([this, session = std::move(session),
                      request = std::make_shared<Request>(std::move(request))]() {
    session->OnHandled(RunHandler(*request));
  });
}

HandlerResult HttpsServerImpl::RunHandler(Request& request) {
  try {
    return handler_->Handle(request);
  } catch (const std::exception& e) {
    // Handlers report errors as responses; an exception is a bug, not the client's fault.
    Response r;
    r.status = 500;
    r.body = StatusJson(500, "InternalError", std::string("internal error: ") + e.what());
    return r;
  } catch (...) {
    Response r;
    r.status = 500;
    r.body = StatusJson(500, "InternalError", "internal error");
    return r;
  }
}

bool HttpsServerImpl::StartUpgradeThread(std::function<void()> body) {
  std::vector<std::thread> finished;
  {
    MutexLock l(upgrade_mu_);
    if (refuse_upgrades_) return false;
    for (uint64_t id : finished_upgrades_) {
      auto it = upgrade_threads_.find(id);
      if (it == upgrade_threads_.end()) continue;
      finished.push_back(std::move(it->second));
      upgrade_threads_.erase(it);
    }
    finished_upgrades_.clear();
    uint64_t id = next_upgrade_id_++;
    try {
      // The new thread reports itself finished under upgrade_mu_, so not before the
      // emplace below.
      std::thread thread([this, id, body = std::move(body)]() mutable {
        body();
        body = nullptr;  // drop the connection (and the session) before reporting
        MutexLock done(upgrade_mu_);
        finished_upgrades_.push_back(id);
      });
      upgrade_threads_.emplace(id, std::move(thread));
    } catch (const std::system_error& e) {
      std::fprintf(stderr, "kite https: cannot start an upgraded session: %s\n", e.what());
      return false;
    }
  }
  for (std::thread& t : finished) t.join();  // they have returned already, or are about to
  return true;
}

void HttpsServerImpl::SessionGone(Session* session) {
  MutexLock l(mu_);
  sessions_.erase(session);
  if (sessions_.empty()) sessions_changed_.NotifyAll();
}

void HttpsServerImpl::Stop() {
  MutexLock stop_lock(stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  stopping = true;

  // 1. No new connections; close every open one (on its strand), cancelling streams.
  std::vector<std::shared_ptr<Session>> live;
  {
    MutexLock l(mu_);
    refuse_sessions_ = true;
    for (auto& [ptr, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  if (io_threads_.empty()) {  // Start failed before the threads: nothing runs
    error_code ignored;
    acceptor_.close(ignored);
  } else {
    std::promise<void> closed;
    asio::post(acceptor_.get_executor(), [this, &closed] {
      error_code ignored;
      acceptor_.close(ignored);
      accept_retry_.cancel();
      closed.set_value();
    });
    closed.get_future().wait();
  }
  for (auto& s : live) s->Shutdown();
  live.clear();

  // 2. Wait for running handlers; drop queued ones (they hold sessions).
  std::unique_ptr<ElasticThreadPool> pool;
  {
    MutexLock l(pool_mu_);
    pool = std::move(pool_);
  }
  if (pool) {
    pool->Stop();
    pool.reset();
  }

  // 2b. Upgraded sessions: their connections were closed in step 1, so their reads and
  // writes fail and the session functions return; no new one starts from here on.
  std::map<uint64_t, std::thread> upgrades;
  {
    MutexLock l(upgrade_mu_);
    refuse_upgrades_ = true;
    upgrades = std::move(upgrade_threads_);
    upgrade_threads_.clear();
    finished_upgrades_.clear();
  }
  for (auto& [id, thread] : upgrades) thread.join();

  // 3. Wait until every session is destroyed: the io_context must outlive their sockets,
  // and a stream's late wake() finds nothing once they are gone.
  {
    MutexLock l(mu_);
    while (!sessions_.empty()) sessions_changed_.WaitFor(mu_, std::chrono::milliseconds(100));
  }

  // 4. Nothing is left to do on the network threads.
  work_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
}

// --- HttpsServer --------------------------------------------------------------------------

Result<std::unique_ptr<HttpsServer>> HttpsServer::Start(HttpsServerOptions options,
                                                        Handler* handler) {
  if (handler == nullptr) return InvalidArgumentError("HTTPS server: no handler");
  if (options.network_threads <= 0 || options.handler_threads <= 0) {
    return InvalidArgumentError("HTTPS server: thread counts must be positive");
  }
  if (options.port < 0 || options.port > 65535) {
    return InvalidArgumentError("HTTPS server: port " + std::to_string(options.port) +
                                " is out of range");
  }
  if (options.request_timeout.count() <= 0 || options.idle_timeout.count() <= 0) {
    return InvalidArgumentError("HTTPS server: timeouts must be positive");
  }
  auto impl = std::make_unique<HttpsServerImpl>(std::move(options), handler);
  KITE_RETURN_IF_ERROR(impl->ConfigureTls());
  KITE_RETURN_IF_ERROR(impl->Listen());
  impl->StartThreads();
  return std::unique_ptr<HttpsServer>(new HttpsServer(std::move(impl)));
}

HttpsServer::HttpsServer(std::unique_ptr<HttpsServerImpl> impl) : impl_(std::move(impl)) {}

HttpsServer::~HttpsServer() { Stop(); }

int HttpsServer::port() const { return impl_->port(); }

void HttpsServer::Stop() { impl_->Stop(); }

int64_t HttpsServer::open_connections() const { return impl_->open_connections.load(); }

uint64_t HttpsServer::requests_served() const { return impl_->requests_served.load(); }

}  // namespace kite::http
