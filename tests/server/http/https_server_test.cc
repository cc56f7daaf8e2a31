#include "src/server/http/https_server.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "src/base/mutex.h"
#include "tests/server/http/raw_tls_client.h"
#include "tests/server/http/test_certs.h"

namespace kite::http {
namespace {

using namespace std::chrono_literals;
using testing::CertAndKey;
using testing::TestCa;

// --- certificates (made once: key generation is the slow part) ----------------------------

struct Pki {
  TestCa ca{"kite-test-ca"};
  CertAndKey server = ca.IssueServer();
  CertAndKey alice = ca.IssueClient("alice", {"system:masters", "dev"});
  TestCa other_ca{"some-other-ca"};
  CertAndKey mallory = other_ca.IssueClient("mallory", {"system:masters"});
};

const Pki& GetPki() {
  static const Pki* pki = new Pki();
  return *pki;
}

// --- a stream the test drives -------------------------------------------------------------

struct StreamControl {
  Mutex mu;
  CondVar cv;
  std::function<void()> wake GUARDED_BY(mu);
  std::deque<std::string> queue GUARDED_BY(mu);
  bool end GUARDED_BY(mu) = false;
  bool started GUARDED_BY(mu) = false;
  bool cancelled GUARDED_BY(mu) = false;
  int64_t produced GUARDED_BY(mu) = 0;

  void Push(std::string s) {
    MutexLock l(mu);
    produced += static_cast<int64_t>(s.size());
    queue.push_back(std::move(s));
    if (wake) wake();  // under the lock: no wake after Cancel
  }
  void End() {
    MutexLock l(mu);
    end = true;
    if (wake) wake();
  }
  template <class Pred>
  bool WaitUntil(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    MutexLock l(mu);
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      cv.WaitFor(mu, 20ms);
    }
    return true;
  }
  bool WaitStarted() NO_THREAD_SAFETY_ANALYSIS {
    return WaitUntil([&]() NO_THREAD_SAFETY_ANALYSIS { return started; });
  }
  bool WaitCancelled(std::chrono::milliseconds t = 5000ms) NO_THREAD_SAFETY_ANALYSIS {
    return WaitUntil([&]() NO_THREAD_SAFETY_ANALYSIS { return cancelled; }, t);
  }
  bool IsCancelled() {
    MutexLock l(mu);
    return cancelled;
  }
};

class TestStream : public ResponseStream {
 public:
  explicit TestStream(std::shared_ptr<StreamControl> c) : c_(std::move(c)) {}
  void Start(std::function<void()> wake) override {
    MutexLock l(c_->mu);
    c_->wake = std::move(wake);
    c_->started = true;
    c_->cv.NotifyAll();
  }
  bool Poll(std::string& out) override {
    MutexLock l(c_->mu);
    while (!c_->queue.empty()) {
      out += c_->queue.front();
      c_->queue.pop_front();
    }
    return !c_->end;
  }
  void Cancel() override {
    MutexLock l(c_->mu);
    c_->cancelled = true;
    c_->wake = nullptr;
    c_->cv.NotifyAll();
  }

 private:
  std::shared_ptr<StreamControl> c_;
};

// --- the handler --------------------------------------------------------------------------

class TestHandler : public Handler {
 public:
  HandlerResult Handle(Request& req) override {
    {
      MutexLock l(mu_);
      ++calls_;
      last_ = req;
    }
    if (req.path == "/slow") {
      int now = ++in_flight_;
      int seen = max_in_flight_.load();
      while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(20ms);
      --in_flight_;
      Response r;
      r.body = "slow:" + req.query;
      return r;
    }
    if (req.path == "/body") {
      Response r;
      r.content_type = "text/plain";
      r.body = std::to_string(req.body.size());
      return r;
    }
    if (req.path == "/stream") {
      StreamingResponse s;
      s.headers.push_back({"X-Stream", "yes"});
      s.stream = std::make_unique<TestStream>(stream_control);
      return s;
    }
    if (req.path == "/nocontent") {
      Response r;
      r.status = 204;
      return r;
    }
    Response r;
    r.headers.push_back({"X-Test", "1"});
    r.headers.push_back({"Cache-Control", "no-store"});  // replaces the default
    r.body = "{\"path\":\"" + req.path + "\"}";
    return r;
  }

  Request last() {
    MutexLock l(mu_);
    return last_;
  }
  int calls() {
    MutexLock l(mu_);
    return calls_;
  }

  std::shared_ptr<StreamControl> stream_control = std::make_shared<StreamControl>();
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_in_flight_{0};

 private:
  Mutex mu_;
  int calls_ GUARDED_BY(mu_) = 0;
  Request last_ GUARDED_BY(mu_);
};

HttpsServerOptions TestOptions() {
  HttpsServerOptions o;
  o.port = 0;
  o.server_cert_pem = GetPki().server.cert_pem;
  o.server_key_pem = GetPki().server.key_pem;
  o.client_ca_pem = GetPki().ca.cert_pem();
  o.network_threads = 2;
  o.handler_threads = 64;
  return o;
}

std::unique_ptr<HttpsServer> StartServer(TestHandler& handler,
                                         HttpsServerOptions options = TestOptions()) {
  auto server = HttpsServer::Start(std::move(options), &handler);
  INFO(server.status().ToString());
  REQUIRE(server.ok());
  return std::move(server).value();
}

// --- libcurl client -----------------------------------------------------------------------

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;  // raw header lines
  long http_version = 0;
  long new_connections = 0;
};

size_t AppendTo(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

class Client {
 public:
  explicit Client(const CertAndKey* cert = nullptr) {
    static CurlGlobal global;
    h_ = curl_easy_init();
    curl_blob ca{const_cast<char*>(GetPki().ca.cert_pem().data()), GetPki().ca.cert_pem().size(),
                 CURL_BLOB_COPY};
    curl_easy_setopt(h_, CURLOPT_CAINFO_BLOB, &ca);
    if (cert != nullptr) {
      curl_blob c{const_cast<char*>(cert->cert_pem.data()), cert->cert_pem.size(),
                  CURL_BLOB_COPY};
      curl_blob k{const_cast<char*>(cert->key_pem.data()), cert->key_pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h_, CURLOPT_SSLCERT_BLOB, &c);
      curl_easy_setopt(h_, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h_, CURLOPT_SSLKEY_BLOB, &k);
      curl_easy_setopt(h_, CURLOPT_SSLKEYTYPE, "PEM");
    }
    curl_easy_setopt(h_, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L);
  }
  ~Client() {
    curl_slist_free_all(extra_headers_);
    curl_easy_cleanup(h_);
  }
  CURL* handle() { return h_; }

  void AddHeader(const char* line) { extra_headers_ = curl_slist_append(extra_headers_, line); }

  Reply Get(int port, const std::string& target) { return Perform(port, target, nullptr); }
  Reply Post(int port, const std::string& target, const std::string& body) {
    return Perform(port, target, &body);
  }

  Reply Perform(int port, const std::string& target, const std::string* body) {
    Reply r;
    std::string url = "https://127.0.0.1:" + std::to_string(port) + target;
    curl_easy_setopt(h_, CURLOPT_URL, url.c_str());
    if (body != nullptr) {
      curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
      curl_easy_setopt(h_, CURLOPT_POSTFIELDS, body->data());
    } else {
      curl_easy_setopt(h_, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, extra_headers_);
    curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, AppendTo);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h_, CURLOPT_HEADERFUNCTION, AppendTo);
    curl_easy_setopt(h_, CURLOPT_HEADERDATA, &r.headers);
    r.code = curl_easy_perform(h_);
    curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(h_, CURLINFO_HTTP_VERSION, &r.http_version);
    curl_easy_getinfo(h_, CURLINFO_NUM_CONNECTS, &r.new_connections);
    return r;
  }

 private:
  CURL* h_;
  curl_slist* extra_headers_ = nullptr;
};

bool HasHeader(const std::string& raw, const std::string& line) {
  return raw.find(line + "\r\n") != std::string::npos;
}

// --- a raw TLS client for what curl will not send -----------------------------------------

using RawTls = ::kite::testing::RawTlsClient;

template <class Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// --- tests --------------------------------------------------------------------------------

TEST_CASE("GET without a client certificate reaches the handler anonymously") {
  TestHandler handler;
  auto server = StartServer(handler);
  REQUIRE(server->port() > 0);

  Client client;
  client.AddHeader("X-Mixed-Case: Value");
  Reply r = client.Get(server->port(), "/api/v1/namespaces/a%20b/pods?labelSelector=a%3Db&x=1");
  INFO(curl_easy_strerror(r.code));
  REQUIRE(r.code == CURLE_OK);
  CHECK(r.status == 200);
  CHECK(r.body == "{\"path\":\"/api/v1/namespaces/a b/pods\"}");
  CHECK(r.http_version == CURL_HTTP_VERSION_1_1);
  CHECK(HasHeader(r.headers, "Content-Type: application/json"));
  CHECK(HasHeader(r.headers, "Content-Length: " + std::to_string(r.body.size())));
  CHECK(HasHeader(r.headers, "X-Test: 1"));
  CHECK(HasHeader(r.headers, "Cache-Control: no-store"));
  CHECK(r.headers.find("Date: ") != std::string::npos);
  CHECK(r.headers.find(" GMT\r\n") != std::string::npos);

  Request seen = handler.last();
  CHECK(seen.method == "GET");
  CHECK(seen.target == "/api/v1/namespaces/a%20b/pods?labelSelector=a%3Db&x=1");
  CHECK(seen.path == "/api/v1/namespaces/a b/pods");
  CHECK(seen.query == "labelSelector=a%3Db&x=1");
  CHECK(seen.Header("x-mixed-case") == "Value");
  CHECK(seen.Header("host") == "127.0.0.1:" + std::to_string(server->port()));
  CHECK_FALSE(seen.peer.has_verified_certificate);
  CHECK(seen.peer.common_name.empty());
  CHECK(seen.remote_address.rfind("127.0.0.1:", 0) == 0);

  // The server's own default.
  Reply none = client.Get(server->port(), "/nocontent");
  CHECK(none.status == 204);
  CHECK(HasHeader(none.headers, "Cache-Control: no-cache, private"));
}

TEST_CASE("a verified client certificate gives the handler CN and every O") {
  TestHandler handler;
  auto server = StartServer(handler);
  Client client(&GetPki().alice);
  Reply r = client.Get(server->port(), "/who");
  INFO(curl_easy_strerror(r.code));
  REQUIRE(r.code == CURLE_OK);
  CHECK(r.status == 200);
  Request seen = handler.last();
  CHECK(seen.peer.has_verified_certificate);
  CHECK(seen.peer.common_name == "alice");
  CHECK(seen.peer.organizations == std::vector<std::string>{"system:masters", "dev"});
}

TEST_CASE("a client certificate from another CA fails the connection") {
  TestHandler handler;
  auto server = StartServer(handler);
  Client client(&GetPki().mallory);
  Reply r = client.Get(server->port(), "/who");
  CHECK(r.code != CURLE_OK);
  CHECK(handler.calls() == 0);
}

TEST_CASE("keep-alive: two requests on one connection") {
  TestHandler handler;
  auto server = StartServer(handler);
  Client client;
  Reply first = client.Get(server->port(), "/a");
  Reply second = client.Get(server->port(), "/b");
  REQUIRE(first.code == CURLE_OK);
  REQUIRE(second.code == CURLE_OK);
  CHECK(first.new_connections == 1);
  CHECK(second.new_connections == 0);
  CHECK(server->open_connections() == 1);
  CHECK(server->requests_served() == 2);
}

TEST_CASE("pipelined requests are answered in order") {
  TestHandler handler;
  auto server = StartServer(handler);
  RawTls raw(server->port());
  REQUIRE(raw.connected());
  REQUIRE(raw.Write("GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string out = raw.ReadUntil("\"}", 2);  // both bodies end so
  CHECK(out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  size_t first = out.find("/first");
  size_t second = out.find("/second");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  CHECK(first < second);
}

TEST_CASE("request bodies: within the limit served, beyond it 413 with a Status") {
  TestHandler handler;
  auto server = StartServer(handler);

  SECTION("a 1 MiB body") {
    Client client;
    Reply r = client.Post(server->port(), "/body", std::string(1 << 20, 'a'));
    REQUIRE(r.code == CURLE_OK);
    CHECK(r.status == 200);
    CHECK(r.body == std::to_string(1 << 20));
  }
  SECTION("a 2 MiB body sent after 100 Continue") {
    Client client;
    client.AddHeader("Expect: 100-continue");
    auto start = std::chrono::steady_clock::now();
    Reply r = client.Post(server->port(), "/body", std::string(2 << 20, 'a'));
    REQUIRE(r.code == CURLE_OK);
    CHECK(r.status == 200);
    CHECK(r.body == std::to_string(2 << 20));
    // curl waits a second for "100 Continue" before sending anyway.
    CHECK(std::chrono::steady_clock::now() - start < 900ms);
  }
  SECTION("4 MiB, with and without Expect: 100-continue") {
    bool expect = GENERATE(true, false);
    Client client;
    client.AddHeader(expect ? "Expect: 100-continue" : "Expect:");
    Reply r = client.Post(server->port(), "/body", std::string(4 << 20, 'a'));
    INFO(curl_easy_strerror(r.code));
    REQUIRE(r.code == CURLE_OK);
    CHECK(r.status == 413);
    CHECK(r.body ==
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          "\"message\":\"Request entity too large: limit is 3145728\","
          "\"reason\":\"RequestEntityTooLarge\",\"code\":413}");
    CHECK(HasHeader(r.headers, "Connection: close"));
    CHECK(handler.calls() == 0);
  }
}

TEST_CASE("malformed HTTP gets 400 and the connection closes") {
  TestHandler handler;
  auto server = StartServer(handler);
  std::string request = GENERATE(std::string("NOT HTTP AT ALL\r\n\r\n"),
                                 std::string("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
                                 std::string("GET /x HTTP/1.1\r\nContent-Length: nope\r\n\r\n"));
  RawTls raw(server->port());
  REQUIRE(raw.connected());
  REQUIRE(raw.Write(request));
  bool closed = false;
  std::string out = raw.ReadUntilClose(&closed);
  CHECK(out.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(out.find("\"reason\":\"BadRequest\"") != std::string::npos);
  CHECK(closed);
  CHECK(handler.calls() == 0);
}

TEST_CASE("oversized headers get 431") {
  TestHandler handler;
  HttpsServerOptions options = TestOptions();
  options.max_header_bytes = 4096;
  auto server = StartServer(handler, options);
  RawTls raw(server->port());
  REQUIRE(raw.connected());
  REQUIRE(raw.Write("GET / HTTP/1.1\r\nX-Big: " + std::string(8000, 'b') + "\r\n\r\n"));
  std::string out = raw.ReadUntilClose();
  CHECK(out.rfind("HTTP/1.1 431 ", 0) == 0);
}

TEST_CASE("a streaming response: chunks arrive one by one, then keep-alive continues") {
  TestHandler handler;
  auto server = StartServer(handler);
  auto control = handler.stream_control;

  Mutex mu;
  std::string received;  // guarded by mu
  Client client;
  struct Sink {
    Mutex* mu;
    std::string* received;
  } sink{&mu, &received};
  curl_easy_setopt(client.handle(), CURLOPT_URL,
                   ("https://127.0.0.1:" + std::to_string(server->port()) + "/stream").c_str());
  curl_easy_setopt(client.handle(), CURLOPT_WRITEFUNCTION,
                   +[](char* data, size_t size, size_t n, void* user) -> size_t {
                     auto* s = static_cast<Sink*>(user);
                     MutexLock l(*s->mu);
                     s->received->append(data, size * n);
                     return size * n;
                   });
  curl_easy_setopt(client.handle(), CURLOPT_WRITEDATA, &sink);
  std::string headers;
  curl_easy_setopt(client.handle(), CURLOPT_HEADERFUNCTION, AppendTo);
  curl_easy_setopt(client.handle(), CURLOPT_HEADERDATA, &headers);
  CURLcode code = CURLE_FAILED_INIT;
  std::thread t([&] { code = curl_easy_perform(client.handle()); });

  auto received_is = [&](const std::string& want) {
    return Eventually([&] {
      MutexLock l(mu);
      return received == want;
    });
  };
  REQUIRE(control->WaitStarted());
  control->Push("{\"type\":\"ADDED\"}\n");
  // The first event reaches the client before the second exists.
  CHECK(received_is("{\"type\":\"ADDED\"}\n"));
  control->Push("{\"type\":\"MODIFIED\"}\n");
  CHECK(received_is("{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\n"));
  control->End();
  t.join();
  CHECK(code == CURLE_OK);
  CHECK(HasHeader(headers, "Transfer-Encoding: chunked"));
  CHECK(HasHeader(headers, "X-Stream: yes"));
  CHECK_FALSE(control->IsCancelled());  // it ended; nothing to cancel

  // The connection is reused after the last chunk.
  Reply next = client.Get(server->port(), "/after");
  CHECK(next.code == CURLE_OK);
  CHECK(next.status == 200);
  CHECK(next.new_connections == 0);
}

TEST_CASE("a request pipelined behind a stream is served after the stream ends") {
  TestHandler handler;
  auto server = StartServer(handler);
  auto control = handler.stream_control;
  RawTls raw(server->port());
  REQUIRE(raw.connected());
  REQUIRE(raw.Write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(control->WaitStarted());
  std::this_thread::sleep_for(50ms);  // the stream idles with the next request buffered
  control->Push("event-1\n");
  std::string out = raw.ReadUntil("event-1\n");
  CHECK(out.find("\r\n8\r\nevent-1\n\r\n") != std::string::npos);
  CHECK(handler.calls() == 1);  // one request at a time
  control->End();
  out = raw.ReadUntil("/after\"}");
  CHECK(out.rfind("0\r\n\r\nHTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(handler.calls() == 2);
}

TEST_CASE("a client that disconnects mid-stream cancels the stream") {
  TestHandler handler;
  auto server = StartServer(handler);
  auto control = handler.stream_control;
  CURLcode code = CURLE_OK;
  std::thread t([&] {
    Client client;
    curl_easy_setopt(client.handle(), CURLOPT_URL,
                     ("https://127.0.0.1:" + std::to_string(server->port()) + "/stream").c_str());
    // Abort the transfer on the first data: curl drops the connection.
    curl_easy_setopt(client.handle(), CURLOPT_WRITEFUNCTION,
                     +[](char*, size_t, size_t, void*) -> size_t { return 0; });
    code = curl_easy_perform(client.handle());
  });
  REQUIRE(control->WaitStarted());
  control->Push("event\n");
  t.join();
  CHECK(code == CURLE_WRITE_ERROR);
  CHECK(control->WaitCancelled());
  CHECK(Eventually([&] { return server->open_connections() == 0; }));
}

TEST_CASE("Stop with an open stream cancels it and returns promptly") {
  TestHandler handler;
  auto server = StartServer(handler);
  auto control = handler.stream_control;
  CURLcode code = CURLE_OK;
  std::thread t([&] {
    Client client;
    Reply r = client.Get(server->port(), "/stream");
    code = r.code;
  });
  REQUIRE(control->WaitStarted());
  control->Push("event\n");
  auto start = std::chrono::steady_clock::now();
  server->Stop();
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 2s);
  CHECK(control->IsCancelled());
  t.join();
  CHECK(code != CURLE_OK);  // the chunked body never ended
  server->Stop();           // idempotent
  CHECK(server->open_connections() == 0);
}

TEST_CASE("a stream the client does not read is cut at the backlog limit") {
  TestHandler handler;
  HttpsServerOptions options = TestOptions();
  options.max_stream_backlog_bytes = 256 * 1024;
  auto server = StartServer(handler, options);
  auto control = handler.stream_control;
  RawTls raw(server->port());
  REQUIRE(raw.connected());
  REQUIRE(raw.Write("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"));
  REQUIRE(control->WaitStarted());
  // 64 KiB every 2 ms, never read: the socket buffers fill, then the backlog grows past
  // the limit.
  std::thread producer([&] {
    while (!control->IsCancelled()) {
      control->Push(std::string(64 * 1024, 'x'));
      std::this_thread::sleep_for(2ms);
    }
  });
  CHECK(control->WaitCancelled(20000ms));
  producer.join();
  MutexLock l(control->mu);
  // Not cut early: at least the limit was produced. (How much more the socket buffers
  // absorbed first depends on the kernel's autotuning and the load: under a sanitizer the
  // writer may not have sent anything before the backlog reached the limit.)
  CHECK(control->produced >= static_cast<int64_t>(options.max_stream_backlog_bytes));
}

TEST_CASE("32 concurrent clients") {
  TestHandler handler;
  auto server = StartServer(handler);
  constexpr int kClients = 32;
  constexpr int kRequests = 4;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      Client client(i % 2 == 0 ? &GetPki().alice : nullptr);
      for (int j = 0; j < kRequests; ++j) {
        std::string q = std::to_string(i) + "-" + std::to_string(j);
        Reply r = client.Get(server->port(), "/slow?" + q);
        if (r.code == CURLE_OK && r.status == 200 && r.body == "slow:" + q) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kClients * kRequests);
  CHECK(handler.max_in_flight_ > 1);  // handlers ran concurrently
  CHECK(server->requests_served() == static_cast<uint64_t>(kClients * kRequests));
}

TEST_CASE("ALPN: a client offering h2 and http/1.1 gets HTTP/1.1; h2 alone is refused") {
  TestHandler handler;
  auto server = StartServer(handler);
  Client client;
  curl_easy_setopt(client.handle(), CURLOPT_HTTP_VERSION,
                   static_cast<long>(CURL_HTTP_VERSION_2TLS));
  Reply r = client.Get(server->port(), "/");
  REQUIRE(r.code == CURLE_OK);
  CHECK(r.status == 200);
  CHECK(r.http_version == CURL_HTTP_VERSION_1_1);

  RawTls h2_only(server->port(), {.alpn = std::string("\x02h2", 3)});
  CHECK_FALSE(h2_only.connected());
}

TEST_CASE("an idle keep-alive connection is closed after idle_timeout") {
  TestHandler handler;
  HttpsServerOptions options = TestOptions();
  options.idle_timeout = std::chrono::seconds(1);
  auto server = StartServer(handler, options);
  RawTls raw(server->port());
  REQUIRE(raw.connected());
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  std::string out = raw.ReadUntilClose(&closed);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(out.empty());
  CHECK(closed);
  CHECK(took >= 900ms);
  CHECK(took < 4s);
}

TEST_CASE("Start reports bad options") {
  TestHandler handler;
  SECTION("bad certificate") {
    HttpsServerOptions o = TestOptions();
    o.server_cert_pem = "not a certificate";
    auto s = HttpsServer::Start(o, &handler);
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("key of another certificate") {
    HttpsServerOptions o = TestOptions();
    o.server_key_pem = GetPki().alice.key_pem;
    auto s = HttpsServer::Start(o, &handler);
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("client CA without a certificate") {
    HttpsServerOptions o = TestOptions();
    o.client_ca_pem = "junk";
    auto s = HttpsServer::Start(o, &handler);
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("bad address") {
    HttpsServerOptions o = TestOptions();
    o.bind_address = "localhost:1";
    auto s = HttpsServer::Start(o, &handler);
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
  }
  SECTION("port in use") {
    auto first = StartServer(handler);
    HttpsServerOptions o = TestOptions();
    o.port = first->port();
    auto s = HttpsServer::Start(o, &handler);
    CHECK(s.status().code() == StatusCode::kUnavailable);
  }
}

}  // namespace
}  // namespace kite::http
