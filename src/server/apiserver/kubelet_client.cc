// The API server's only Beast/Asio translation unit besides the HTTPS server.
//
// Structure: the client owns an io_context run by one thread. Each call makes an
// AgentConnection whose state is confined to its strand; the caller (a handler thread)
// posts each step and blocks on a future for its completion, so the TLS stream is only ever
// touched on the strand. After the response head, a log body is relayed by a read loop on
// the strand into a buffer that Poll drains; an upgraded connection turns each Read and
// Write into one operation on the strand (one of each may be outstanding, which Asio allows
// on an ssl::stream driven from one strand).
#include "src/server/apiserver/kubelet_client.h"

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <boost/asio/connect.hpp>
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
#include <cctype>
#include <functional>
#include <future>
#include <limits>
#include <optional>
#include <thread>

#include "src/base/mutex.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

constexpr uint32_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kRelayLimit = 1 << 20;  // body bytes buffered ahead of Poll
constexpr size_t kRelayChunk = 16 * 1024;

std::string HostPort(const NodeEndpoint& node) {
  std::string host = node.host.find(':') != std::string::npos ? "[" + node.host + "]" : node.host;
  return host + ":" + std::to_string(node.port);
}

bool HasLineBreak(std::string_view s) {
  return s.find('\r') != std::string_view::npos || s.find('\n') != std::string_view::npos;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Go's url.Error spelling of the operation: "Get", "Post".
std::string GoOp(const std::string& method) {
  std::string op;
  for (size_t i = 0; i < method.size(); ++i) {
    op.push_back(static_cast<char>(i == 0 ? std::toupper(static_cast<unsigned char>(method[i]))
                                          : std::tolower(static_cast<unsigned char>(method[i]))));
  }
  return op;
}

// Posts `start` to `strand` and blocks until it calls the completion it is handed (once).
template <class T, class Executor, class Start>
T Await(const Executor& strand, Start start) {
  auto done = std::make_shared<std::promise<T>>();
  std::future<T> result = done->get_future();
  asio::post(strand, [start = std::move(start), done]() mutable {
    start([done](T value) { done->set_value(std::move(value)); });
  });
  return result.get();
}

// What a relayed body has produced and not yet been polled. Shared by the strand's read
// loop and the server's Poll.
struct RelaySink {
  Mutex mu;
  std::string data GUARDED_BY(mu);
  bool ended GUARDED_BY(mu) = false;
  bool cancelled GUARDED_BY(mu) = false;
  bool paused GUARDED_BY(mu) = false;  // the read loop stopped: data is over the limit
  std::function<void()> wake GUARDED_BY(mu);

  // From the read loop. False when it should stop (cancelled, or paused for Poll).
  bool Add(const char* bytes, size_t n, bool last) {
    MutexLock l(mu);
    if (cancelled) return false;
    if (n > 0) data.append(bytes, n);
    if (last) ended = true;
    if ((n > 0 || last) && wake) wake();
    if (ended) return false;
    if (data.size() >= kRelayLimit) {
      paused = true;
      return false;
    }
    return true;
  }
};

// One TLS connection to an agent. Its state is only touched on its strand: Open,
// ReadWholeBody and CancelDeadline run on the caller's thread and block while their steps
// run there; the rest is called on the strand.
class AgentConnection : public std::enable_shared_from_this<AgentConnection> {
 public:
  AgentConnection(asio::io_context& ioc, asio::ssl::context& ctx)
      : strand_(asio::make_strand(ioc)), stream_(strand_, ctx), timer_(strand_) {}

  const asio::strand<asio::io_context::executor_type>& strand() const { return strand_; }

  // Connects, sends `request` and reads the response head, within `timeout` (the deadline
  // stays armed for ReadWholeBody). Returns "" or what failed.
  std::string Open(const NodeEndpoint& node, const std::string& request,
                   std::chrono::milliseconds timeout) {
    error_code ec;
    tcp::resolver resolver(strand_);
    tcp::resolver::results_type endpoints =
        resolver.resolve(node.host, std::to_string(node.port), ec);
    if (ec) return "dial tcp: lookup " + node.host + ": " + ec.message();
    error_code ignored;
    asio::ip::make_address(node.host, ignored);
    if (ignored) {  // a name, not an IP literal: send it as SNI
      SSL_set_tlsext_host_name(stream_.native_handle(), node.host.c_str());
    }
    auto self = shared_from_this();
    Await<bool>(strand_, [self, timeout](auto done) {
      self->timer_.expires_after(timeout);
      self->timer_.async_wait([self](error_code wait_ec) {
        if (wait_ec) return;
        self->timed_out_ = true;
        self->CloseNow();
      });
      done(true);
    });
    auto failed = [&](const std::string& what, error_code e) {
      return what + ": " + (timed_out_ ? "i/o timeout" : e.message());
    };
    ec = Await<error_code>(strand_, [self, &endpoints](auto done) {
      asio::async_connect(self->stream_.next_layer(), endpoints,
                          [done](error_code e, const tcp::endpoint&) { done(e); });
    });
    if (ec) return failed("dial tcp " + HostPort(node), ec);
    ec = Await<error_code>(strand_, [self](auto done) {
      error_code nodelay_ec;
      self->stream_.next_layer().set_option(tcp::no_delay(true), nodelay_ec);
      self->stream_.async_handshake(asio::ssl::stream_base::client,
                                    [done](error_code e) { done(e); });
    });
    if (ec) return failed("TLS handshake", ec);
    ec = Await<error_code>(strand_, [self, &request](auto done) {
      asio::async_write(self->stream_, asio::buffer(request),
                        [done](error_code e, size_t) { done(e); });
    });
    if (ec) return failed("writing the request", ec);
    parser_.emplace();
    parser_->header_limit(kMaxHeadBytes);
    // Log streams have no end known in advance. (Not boost::none: Beast 1.74 compares the
    // content length with the optional itself, and an empty one is smaller than any.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    ec = Await<error_code>(strand_, [self](auto done) {
      bhttp::async_read_header(self->stream_, self->buffer_, *self->parser_,
                               [done](error_code e, size_t) { done(e); });
    });
    if (ec) return failed("reading the response", ec);
    return "";
  }

  // The response head read by Open (caller's thread, after Open returned: no operation
  // runs on the strand meanwhile).
  const bhttp::response<bhttp::buffer_body>& Head() const { return parser_->get(); }
  bool BodyDone() const { return parser_->is_done(); }

  // Reads the rest of the body (at most `limit` bytes of it), still within the deadline.
  std::string ReadWholeBody(size_t limit) {
    struct Step {
      size_t bytes = 0;
      bool finished = false;
    };
    std::string body;
    auto self = shared_from_this();
    while (body.size() < limit) {
      Step step = Await<Step>(strand_, [self, room = limit - body.size()](auto done) {
        if (self->closed_ || self->parser_->is_done()) return done(Step{0, true});
        auto& b = self->parser_->get().body();
        b.data = self->chunk_.data();
        b.size = std::min(self->chunk_.size(), room);
        bhttp::async_read_some(self->stream_, self->buffer_, *self->parser_,
                               [self, size = b.size, done](error_code e, size_t) {
                                 size_t n = size - self->parser_->get().body().size;
                                 if (e == bhttp::error::need_buffer) e = {};
                                 done(Step{n, static_cast<bool>(e) || self->parser_->is_done()});
                               });
      });
      // The future ordered the strand's writes to chunk_ before this read.
      body.append(chunk_.data(), step.bytes);
      if (step.finished) break;
    }
    return body;
  }

  void CancelDeadline() {
    auto self = shared_from_this();
    Await<bool>(strand_, [self](auto done) {
      self->timer_.cancel();
      done(true);
    });
  }

  // --- relaying a body (on the strand) ---------------------------------------------------

  void PostRelay(std::shared_ptr<RelaySink> sink) {
    asio::post(strand_, [self = shared_from_this(), sink = std::move(sink)] { self->Relay(sink); });
  }

  // --- an upgraded connection ------------------------------------------------------------

  void Read(char* data, size_t size, std::function<void(size_t)> done) {
    if (closed_) return done(0);
    if (buffer_.size() > 0) {  // what came right after the 101 head
      size_t n = asio::buffer_copy(asio::buffer(data, size), buffer_.data());
      buffer_.consume(n);
      return done(n);
    }
    stream_.async_read_some(asio::buffer(data, size),
                            [self = shared_from_this(), done](error_code e, size_t n) {
                              done(e || self->closed_ ? 0 : n);
                            });
  }

  void Write(std::string_view data, std::function<void(bool)> done) {
    if (closed_) return done(false);
    asio::async_write(stream_, asio::buffer(data.data(), data.size()),
                      [self = shared_from_this(), done](error_code e, size_t) {
                        done(!e && !self->closed_);
                      });
  }

  void PostClose() {
    asio::post(strand_, [self = shared_from_this()] { self->CloseNow(); });
  }

  // Ends every pending operation (they complete with an error).
  void CloseNow() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    error_code ignored;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.next_layer().close(ignored);
  }

 private:
  void Relay(const std::shared_ptr<RelaySink>& sink) {
    if (closed_ || parser_->is_done()) {
      sink->Add(nullptr, 0, true);
      return CloseNow();
    }
    auto& b = parser_->get().body();
    b.data = chunk_.data();
    b.size = chunk_.size();
    bhttp::async_read_some(stream_, buffer_, *parser_,
                           [self = shared_from_this(), sink](error_code e, size_t) {
                             size_t n = self->chunk_.size() - self->parser_->get().body().size;
                             if (e == bhttp::error::need_buffer) e = {};
                             bool last = e || self->closed_ || self->parser_->is_done();
                             bool more = sink->Add(self->chunk_.data(), n, last);
                             if (last) return self->CloseNow();
                             if (more) self->Relay(sink);
                           });
  }

  asio::strand<asio::io_context::executor_type> strand_;
  asio::ssl::stream<tcp::socket> stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_;
  std::array<char, kRelayChunk> chunk_;
  bool closed_ = false;
  std::atomic<bool> timed_out_{false};  // set on the strand, read by Open's caller
};

// A 2xx body, relayed as it arrives.
class RelayedBody final : public http::ResponseStream {
 public:
  explicit RelayedBody(std::shared_ptr<AgentConnection> connection)
      : connection_(std::move(connection)), sink_(std::make_shared<RelaySink>()) {}
  ~RelayedBody() override { Cancel(); }

  void Start(std::function<void()> wake) override {
    {
      MutexLock l(sink_->mu);
      sink_->wake = std::move(wake);
    }
    connection_->PostRelay(sink_);
  }

  bool Poll(std::string& out) override {
    bool resume = false;
    bool ended = false;
    {
      MutexLock l(sink_->mu);
      out.append(sink_->data);
      sink_->data.clear();
      if (sink_->paused && !sink_->ended && !sink_->cancelled) {
        sink_->paused = false;
        resume = true;
      }
      ended = sink_->ended;
    }
    if (resume) connection_->PostRelay(sink_);
    return !ended;
  }

  void Cancel() override {
    {
      MutexLock l(sink_->mu);
      if (sink_->cancelled) return;
      sink_->cancelled = true;
      sink_->wake = nullptr;
    }
    connection_->PostClose();
  }

 private:
  const std::shared_ptr<AgentConnection> connection_;
  const std::shared_ptr<RelaySink> sink_;
};

// The connection after the agent's 101.
class AgentUpgraded final : public http::UpgradedConnection {
 public:
  explicit AgentUpgraded(std::shared_ptr<AgentConnection> connection)
      : connection_(std::move(connection)) {}
  ~AgentUpgraded() override { Close(); }

  size_t Read(char* buffer, size_t size) override {
    if (size == 0 || closed_) return 0;
    MutexLock l(read_mu_);
    auto c = connection_;
    return Await<size_t>(c->strand(), [c, buffer, size](auto done) {
      c->Read(buffer, size, std::move(done));
    });
  }

  bool Write(std::string_view data) override {
    if (closed_) return false;
    if (data.empty()) return true;
    MutexLock l(write_mu_);
    auto c = connection_;
    return Await<bool>(c->strand(), [c, data](auto done) { c->Write(data, std::move(done)); });
  }

  void Close() override {
    if (!closed_.exchange(true)) connection_->PostClose();
  }

 private:
  const std::shared_ptr<AgentConnection> connection_;
  std::atomic<bool> closed_{false};
  Mutex read_mu_;
  Mutex write_mu_;
};

std::string BuildRequest(const std::string& method, const NodeEndpoint& node,
                         const std::string& path_and_query, const http::HeaderList& headers) {
  std::string request = method + " " + path_and_query + " HTTP/1.1\r\nHost: " + HostPort(node) +
                        "\r\nUser-Agent: kite-apiserver\r\n";
  for (const auto& [name, value] : headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) ||
        name.find_first_of(": \t") != std::string::npos || IEquals(name, "host") ||
        IEquals(name, "content-length") || IEquals(name, "transfer-encoding") ||
        IEquals(name, "user-agent")) {
      continue;
    }
    request += name + ": " + value + "\r\n";
  }
  if (method != "GET" && method != "HEAD") request += "Content-Length: 0\r\n";
  request += "\r\n";
  return request;
}

std::string View(beast::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace

struct KubeletClient::Impl {
  explicit Impl(KubeletClientOptions o) : options(std::move(o)) {}
  ~Impl() {
    work.reset();
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  // Opens a connection and reads the head; kUnavailable in Go's words on failure.
  Result<std::shared_ptr<AgentConnection>> Open(const std::string& method, const NodeEndpoint& node,
                                                const std::string& path_and_query,
                                                const http::HeaderList& headers) {
    auto connection = std::make_shared<AgentConnection>(ioc, ssl);
    std::string failure = connection->Open(node, BuildRequest(method, node, path_and_query, headers),
                                            options.dial_timeout);
    if (!failure.empty()) {
      connection->PostClose();
      return UnavailableError(GoOp(method) + " \"https://" + HostPort(node) + path_and_query +
                              "\": " + failure);
    }
    return connection;
  }

  KubeletClientOptions options;
  asio::io_context ioc{1};
  asio::ssl::context ssl{asio::ssl::context::tls_client};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
};

Result<std::unique_ptr<KubeletClient>> KubeletClient::Create(KubeletClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  error_code ec;
  SSL_CTX_set_min_proto_version(impl->ssl.native_handle(), TLS1_2_VERSION);
  impl->ssl.use_certificate_chain(asio::buffer(impl->options.client_cert_pem), ec);
  if (ec) return InvalidArgumentError("kubelet client: bad client certificate: " + ec.message());
  impl->ssl.use_private_key(asio::buffer(impl->options.client_key_pem), asio::ssl::context::pem, ec);
  if (ec) return InvalidArgumentError("kubelet client: bad client key: " + ec.message());
  if (SSL_CTX_check_private_key(impl->ssl.native_handle()) != 1) {
    return InvalidArgumentError("kubelet client: the key does not match the certificate");
  }
  // Agents' serving certificates are self-signed and nothing vouches for them yet: like
  // kube-apiserver without --kubelet-certificate-authority, do not verify them.
  impl->ssl.set_verify_mode(asio::ssl::verify_none);
  impl->work.emplace(asio::make_work_guard(impl->ioc));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    for (;;) {
      try {
        raw->ioc.run();
        return;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "kite kubelet client: unexpected exception: %s\n", e.what());
      }
    }
  });
  return std::unique_ptr<KubeletClient>(new KubeletClient(std::move(impl)));
}

KubeletClient::KubeletClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KubeletClient::~KubeletClient() = default;

Result<KubeletResponse> KubeletClient::Get(const NodeEndpoint& node,
                                           const std::string& path_and_query) {
  Result<std::shared_ptr<AgentConnection>> opened =
      impl_->Open("GET", node, path_and_query, {{"Accept", "*/*"}});
  if (!opened.ok()) return opened.status();
  std::shared_ptr<AgentConnection> connection = std::move(opened).value();
  KubeletResponse response;
  response.status = static_cast<int>(connection->Head().result_int());
  response.content_type = View(connection->Head()[bhttp::field::content_type]);
  if (response.status >= 200 && response.status < 300) {
    connection->CancelDeadline();
    response.stream = std::make_unique<RelayedBody>(connection);
    return response;
  }
  response.body = connection->ReadWholeBody(impl_->options.max_error_body_bytes);
  connection->PostClose();
  return response;
}

Result<KubeletUpgrade> KubeletClient::Upgrade(const NodeEndpoint& node, const std::string& method,
                                              const std::string& path_and_query,
                                              const http::HeaderList& headers) {
  Result<std::shared_ptr<AgentConnection>> opened =
      impl_->Open(method, node, path_and_query, headers);
  if (!opened.ok()) return opened.status();
  std::shared_ptr<AgentConnection> connection = std::move(opened).value();
  KubeletUpgrade upgrade;
  const auto& head = connection->Head();
  upgrade.status = static_cast<int>(head.result_int());
  upgrade.content_type = View(head[bhttp::field::content_type]);
  for (const auto& field : head) {
    upgrade.headers.emplace_back(View(field.name_string()), View(field.value()));
  }
  if (upgrade.status == 101) {
    connection->CancelDeadline();
    upgrade.connection = std::make_unique<AgentUpgraded>(connection);
    return upgrade;
  }
  upgrade.body = connection->ReadWholeBody(impl_->options.max_error_body_bytes);
  connection->PostClose();
  return upgrade;
}

Result<NodeEndpoint> NodeEndpointOf(const rapidjson::Value& node) {
  NodeEndpoint endpoint;
  const rapidjson::Value* status = json::Member(node, "status");
  const rapidjson::Value* addresses = status ? json::Member(*status, "addresses") : nullptr;
  std::string internal_ip, hostname, known;
  if (addresses && addresses->IsArray()) {
    for (const rapidjson::Value& a : addresses->GetArray()) {
      if (!a.IsObject()) continue;
      std::string type(json::StringMember(a, "type"));
      std::string address(json::StringMember(a, "address"));
      if (!known.empty()) known += " ";
      known += "{" + type + " " + address + "}";
      if (address.empty()) continue;
      if (type == "InternalIP" && internal_ip.empty()) internal_ip = address;
      if (type == "Hostname" && hostname.empty()) hostname = address;
    }
  }
  endpoint.host = !internal_ip.empty() ? internal_ip : hostname;
  if (endpoint.host.empty()) {
    return InvalidArgumentError("no preferred addresses found; known addresses: [" + known + "]");
  }
  const rapidjson::Value* daemon = status ? json::Member(*status, "daemonEndpoints") : nullptr;
  const rapidjson::Value* kubelet = daemon ? json::Member(*daemon, "kubeletEndpoint") : nullptr;
  const rapidjson::Value* port = kubelet ? json::Member(*kubelet, "Port") : nullptr;
  if (port && port->IsInt() && port->GetInt() > 0 && port->GetInt() <= 65535) {
    endpoint.port = port->GetInt();
  }
  return endpoint;
}

}  // namespace kite::apiserver
