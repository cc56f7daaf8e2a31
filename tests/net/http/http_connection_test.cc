// The HTTP/1.1 client against loopback servers: body framings, keep-alive, deadlines,
// cancellation from another thread, TLS verification and client certificates, and
// responses that are malformed or too large.
#include <catch2/catch.hpp>

#include <ctime>
#include <thread>

#include "src/net/http/http_connection.h"
#include "src/server/pki/certificates.h"
#include "tests/net/http/loopback_server.h"

namespace kite::net::http {
namespace {

using namespace std::chrono_literals;
using testing::Answer;
using testing::LoopbackServer;
using testing::ServerConn;
using testing::ServerTls;

Deadline In(std::chrono::milliseconds d) { return std::chrono::steady_clock::now() + d; }

struct Pem {
  std::string cert, key;
};

// A CA and certificates it signs.
struct TestCa {
  pki::KeyAndCert ca;
  std::string pem;

  TestCa() {
    auto made = pki::CreateCaCertificate(std::time(nullptr));
    REQUIRE(made.ok());
    ca = std::move(made).value();
    pem = *pki::CertificateToPem(ca.cert.get());
  }
  Pem Server(const std::vector<std::string>& sans) const {
    auto made = pki::CreateServerCertificate(ca, "server", sans, std::time(nullptr));
    REQUIRE(made.ok());
    return {*pki::CertificateToPem(made->cert.get()), *pki::PrivateKeyToPem(made->key.get())};
  }
  Pem Client(const std::string& user) const {
    auto made = pki::CreateClientCertificate(ca, user, {"group"}, std::time(nullptr));
    REQUIRE(made.ok());
    return {*pki::CertificateToPem(made->cert.get()), *pki::PrivateKeyToPem(made->key.get())};
  }
};

std::unique_ptr<HttpConnection> Dial(const std::string& host, int port, std::shared_ptr<TlsContext> tls = nullptr) {
  HttpConnectionOptions options;
  options.socket.host = host;
  options.socket.port = port;
  options.socket.tls = std::move(tls);
  auto c = std::make_unique<HttpConnection>(std::move(options));
  return c;
}

std::shared_ptr<TlsContext> Tls(TlsOptions options) {
  auto made = TlsContext::Create(options);
  REQUIRE(made.ok());
  return *made;
}

// One exchange: connect if asked, write, read the head and the whole body.
struct Exchange {
  ResponseHead head;
  std::string body;
};
Result<Exchange> RoundTrip(HttpConnection& c, const HttpRequest& request, size_t max_body = 1 << 20) {
  KITE_RETURN_IF_ERROR(c.WriteRequest(request, In(2s)));
  Result<ResponseHead> head = c.ReadResponseHead(In(2s));
  if (!head.ok()) return head.status();
  Result<std::string> body = c.ReadBody(max_body, In(2s));
  if (!body.ok()) return body.status();
  return Exchange{std::move(head).value(), std::move(body).value()};
}

// A server that answers each request on a connection with the next of `answers`.
LoopbackServer::Handler Script(std::vector<std::string> answers) {
  return [answers](ServerConn& conn) {
    for (const std::string& answer : answers) {
      if (!conn.ReadRequest()) return;
      conn.Write(answer);
    }
  };
}

TEST_CASE("http: a Content-Length body, and what the request looks like on the wire") {
  LoopbackServer server(Script({Answer(201, "created!", "X-Reply: yes\r\n")}));
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  HttpRequest request{.method = "POST", .target = "/api/v1/things?x=1", .headers = {{"Content-Type", "text/plain"}},
                      .body = "payload"};
  auto r = RoundTrip(*c, request);
  REQUIRE(r.ok());
  CHECK(r->head.status == 201);
  CHECK(r->head.reason == "X");
  CHECK(r->head.headers.Get("x-reply") == "yes");
  CHECK(r->body == "created!");
  CHECK(c->Reusable());
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].target == "/api/v1/things?x=1");
  CHECK(seen[0].headers.at(0) == std::pair<std::string, std::string>("Host", "127.0.0.1:" + std::to_string(server.port())));
  CHECK(seen[0].Header("content-type") == "text/plain");
  CHECK(seen[0].Header("content-length") == "7");
  CHECK(seen[0].body == "payload");
}

TEST_CASE("http: chunked bodies with extensions and trailers") {
  std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "1\r\n \r\n"
      "00006\r\nworld!\r\n"
      "0;last\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n";
  LoopbackServer server(Script({chunked, Answer(200, "next")}));
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  auto r = RoundTrip(*c, {});
  REQUIRE(r.ok());
  CHECK(r->body == "hello world!");
  CHECK(c->Reusable());  // the trailers were read: the next response starts clean
  auto next = RoundTrip(*c, {});
  REQUIRE(next.ok());
  CHECK(next->body == "next");
}

TEST_CASE("http: a body until the server closes") {
  LoopbackServer server([](ServerConn& conn) {
    if (!conn.ReadRequest()) return;
    conn.Write("HTTP/1.1 200 OK\r\n\r\nall of ");
    std::this_thread::sleep_for(50ms);
    conn.Write("this");
  });
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  auto r = RoundTrip(*c, {});
  REQUIRE(r.ok());
  CHECK(r->body == "all of this");
  CHECK_FALSE(c->Reusable());
}

TEST_CASE("http: no body for HEAD, 204 and 304; 1xx answers are skipped") {
  LoopbackServer server(Script({"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n",
                                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
                                Answer(200, "end")}));
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  auto head = RoundTrip(*c, {.method = "HEAD"});
  REQUIRE(head.ok());
  CHECK(head->head.headers.Get("Content-Length") == "99");
  CHECK(head->body.empty());
  auto none = RoundTrip(*c, {});
  REQUIRE(none.ok());
  CHECK(none->head.status == 204);
  auto cached = RoundTrip(*c, {});
  REQUIRE(cached.ok());
  CHECK(cached->head.status == 304);
  auto last = RoundTrip(*c, {});
  REQUIRE(last.ok());
  CHECK(last->body == "end");
  CHECK(server.connections() == 1);
}

TEST_CASE("http: keep-alive reuses the connection until the server says close") {
  LoopbackServer server(Script({Answer(200, "one"), Answer(200, "two", "Connection: close\r\n")}));
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  auto one = RoundTrip(*c, {});
  REQUIRE(one.ok());
  REQUIRE(c->Reusable());
  REQUIRE(c->IdleAndOpen());
  auto two = RoundTrip(*c, {});
  REQUIRE(two.ok());
  CHECK(two->body == "two");
  CHECK_FALSE(c->Reusable());
  CHECK(server.connections() == 1);
  CHECK(server.requests().size() == 2);
}

TEST_CASE("http: an idle connection the server closed is noticed before reuse") {
  LoopbackServer server(Script({Answer(200, "one")}));  // then the handler returns: closed
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  REQUIRE(RoundTrip(*c, {}).ok());
  REQUIRE(c->Reusable());
  bool closed = false;
  for (int i = 0; i < 100 && !closed; ++i) {
    closed = !c->IdleAndOpen();
    if (!closed) std::this_thread::sleep_for(10ms);
  }
  CHECK(closed);
}

TEST_CASE("http: HTTP/1.0 closes unless it says keep-alive") {
  LoopbackServer server(Script({"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na"}));
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  auto r = RoundTrip(*c, {});
  REQUIRE(r.ok());
  CHECK(r->head.minor_version == 0);
  CHECK_FALSE(c->Reusable());
}

TEST_CASE("http: a server that never answers runs into the deadline") {
  LoopbackServer server([](ServerConn& conn) {
    (void)conn.ReadRequest();
    conn.WaitForStop();
  });
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  REQUIRE(c->WriteRequest({}, In(1s)).ok());
  auto start = std::chrono::steady_clock::now();
  auto head = c->ReadResponseHead(In(200ms));
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(head.ok());
  CHECK(head.status().code() == StatusCode::kUnavailable);
  CHECK(head.status().message().find("i/o timeout") != std::string::npos);
  CHECK(c->timed_out());
  CHECK(took >= 190ms);
  CHECK(took < 1s);
  CHECK_FALSE(c->Reusable());
  CHECK_FALSE(c->response_started());
}

TEST_CASE("http: a connect that gets nowhere runs into the deadline") {
  // A listening socket whose backlog is full does not complete new handshakes... which is
  // not portable; an unroutable address is. TEST-NET-1 is never routed.
  auto c = Dial("192.0.2.1", 80);
  auto start = std::chrono::steady_clock::now();
  Status s = c->Connect(In(200ms));
  REQUIRE_FALSE(s.ok());
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(s.message().rfind("dial tcp 192.0.2.1:80", 0) == 0);
}

TEST_CASE("http: nothing listening is refused") {
  int port;
  { LoopbackServer gone(Script({})); port = gone.port(); }
  auto c = Dial("127.0.0.1", port);
  Status s = c->Connect(In(2s));
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kUnavailable);
  CHECK(s.message() == "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
  auto bad_name = Dial("no-such-host.invalid", 80);
  Status lookup = bad_name->Connect(In(5s));
  CHECK(lookup.message().rfind("dial tcp: lookup no-such-host.invalid: ", 0) == 0);
}

TEST_CASE("http: Shutdown from another thread ends a blocked read at once") {
  LoopbackServer server([](ServerConn& conn) {
    if (!conn.ReadRequest()) return;
    conn.Write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n");  // a watch that goes quiet
    conn.WaitForStop();
  });
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  REQUIRE(c->WriteRequest({}, In(1s)).ok());
  REQUIRE(c->ReadResponseHead(In(2s)).ok());
  char buf[64];
  auto first = c->ReadBodySome(buf, sizeof(buf), kNoDeadline);
  REQUIRE(first.ok());
  CHECK(std::string(buf, *first) == "abc");
  std::thread canceller([&] {
    std::this_thread::sleep_for(100ms);
    c->Shutdown();
  });
  auto start = std::chrono::steady_clock::now();
  auto blocked = c->ReadBodySome(buf, sizeof(buf), kNoDeadline);
  auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.status().message().find("use of closed network connection") != std::string::npos);
  CHECK(took < 1s);
  CHECK_FALSE(c->timed_out());
}

TEST_CASE("http: malformed responses are errors, never crashes") {
  struct Case {
    const char* name;
    std::string answer;
    const char* message;
  };
  std::vector<Case> cases = {
      {"garbage", "garbage\r\n\r\n", "malformed HTTP response \"garbage\""},
      {"binary garbage", std::string("\x16\x03\x01\x00\xff\r\n\r\n", 9), "malformed HTTP response"},
      {"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", "malformed HTTP response"},
      {"header without colon", "HTTP/1.1 200 OK\r\nnonsense\r\n\r\n", "malformed MIME header line"},
      {"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length"},
      {"conflicting lengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "conflicting"},
      {"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
      {"huge chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n", "bad chunk size"},
      {"no CRLF after chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", "no CRLF"},
      {"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "unexpected EOF"},
      {"cut in the head", "HTTP/1.1 200 OK\r\nContent-Le", "unexpected EOF"},
      {"nothing", "", "EOF"},
      {"huge head", "HTTP/1.1 200 OK\r\nX: " + std::string(300 * 1024, 'a') + "\r\n\r\n", "response head larger than"},
  };
  for (const Case& k : cases) {
    INFO(k.name);
    LoopbackServer server([&k](ServerConn& conn) {
      if (!conn.ReadRequest()) return;
      conn.Write(k.answer);
    });
    auto c = Dial("127.0.0.1", server.port());
    REQUIRE(c->Connect(In(2s)).ok());
    auto r = RoundTrip(*c, {});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    CHECK(r.status().message().find(k.message) != std::string::npos);
    CHECK_FALSE(c->Reusable());
  }
}

TEST_CASE("http: bodies over the limit fail; requests that cannot be sent are refused") {
  LoopbackServer server(Script({Answer(200, std::string(100, 'x')),
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + std::string(64, 'y') + "\r\n0\r\n\r\n"}));
  auto c = Dial("127.0.0.1", server.port());
  REQUIRE(c->Connect(In(2s)).ok());
  auto big = RoundTrip(*c, {}, 99);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().code() == StatusCode::kResourceExhausted);
  auto c2 = Dial("127.0.0.1", server.port());
  REQUIRE(c2->Connect(In(2s)).ok());
  CHECK(RoundTrip(*c2, {}, 100).ok());  // exactly at the limit
  auto chunked = RoundTrip(*c2, {}, 63);
  REQUIRE_FALSE(chunked.ok());
  CHECK(chunked.status().code() == StatusCode::kResourceExhausted);

  auto c3 = Dial("127.0.0.1", server.port());
  CHECK(c3->WriteRequest({.headers = {{"X", "a\r\nInjected: 1"}}}, In(1s)).code() == StatusCode::kInvalidArgument);
  CHECK(c3->WriteRequest({.headers = {{"Bad Name", "v"}}}, In(1s)).code() == StatusCode::kInvalidArgument);
  CHECK(c3->WriteRequest({.method = "GET /x"}, In(1s)).code() == StatusCode::kInvalidArgument);
  CHECK(c3->WriteRequest({.target = "/a b"}, In(1s)).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("https: the server is verified against the given CA and the host") {
  TestCa ca;
  Pem ip_cert = ca.Server({"127.0.0.1"});
  LoopbackServer server([](ServerConn& conn) {
    while (conn.ReadRequest()) conn.Write(Answer(200, "secure"));
  }, ServerTls{ip_cert.cert, ip_cert.key, ""});

  SECTION("the right CA and IP") {
    auto c = Dial("127.0.0.1", server.port(), Tls({.ca_pem = ca.pem}));
    REQUIRE(c->Connect(In(2s)).ok());
    auto r = RoundTrip(*c, {});
    REQUIRE(r.ok());
    CHECK(r->body == "secure");
    CHECK(RoundTrip(*c, {}).ok());
    CHECK(server.connections() == 1);
  }
  SECTION("another CA") {
    TestCa other;
    auto c = Dial("127.0.0.1", server.port(), Tls({.ca_pem = other.pem}));
    Status s = c->Connect(In(2s));
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kUnavailable);
    CHECK(s.message().rfind("tls: failed to verify certificate: x509: ", 0) == 0);
    CHECK(s.message().find("certificate") != std::string::npos);
  }
  SECTION("a host name the certificate does not name") {
    auto c = Dial("localhost", server.port(), Tls({.ca_pem = ca.pem}));
    Status s = c->Connect(In(2s));
    REQUIRE_FALSE(s.ok());
    INFO(s.message());
    CHECK(s.message() == "tls: failed to verify certificate: x509: hostname mismatch");
  }
  SECTION("no verification at all") {
    auto c = Dial("localhost", server.port(), Tls({.verify = false}));
    REQUIRE(c->Connect(In(2s)).ok());
    CHECK(RoundTrip(*c, {}).ok());
  }
}

TEST_CASE("https: an IP the certificate does not name; a name it does, with SNI") {
  TestCa ca;
  Pem name_cert = ca.Server({"localhost"});
  std::string sni;
  std::mutex mu;
  LoopbackServer server([&](ServerConn& conn) {
    {
      std::lock_guard<std::mutex> lock(mu);
      sni = conn.server_name();
    }
    while (conn.ReadRequest()) conn.Write(Answer(200, "ok"));
  }, ServerTls{name_cert.cert, name_cert.key, ""});
  auto by_ip = Dial("127.0.0.1", server.port(), Tls({.ca_pem = ca.pem}));
  Status s = by_ip->Connect(In(2s));
  REQUIRE_FALSE(s.ok());
  CHECK(s.message() == "tls: failed to verify certificate: x509: IP address mismatch");

  auto by_name = Dial("localhost", server.port(), Tls({.ca_pem = ca.pem}));
  REQUIRE(by_name->Connect(In(2s)).ok());
  REQUIRE(RoundTrip(*by_name, {}).ok());
  std::lock_guard<std::mutex> lock(mu);
  CHECK(sni == "localhost");
}

TEST_CASE("https: the client certificate reaches the server; sessions are resumed") {
  TestCa ca;
  Pem server_cert = ca.Server({"127.0.0.1"});
  Pem client_cert = ca.Client("alice");
  std::vector<std::string> seen_cns;
  std::mutex mu;
  LoopbackServer server([&](ServerConn& conn) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen_cns.push_back(conn.client_cn());
    }
    while (conn.ReadRequest()) conn.Write(Answer(200, "hi " + conn.client_cn()));
  }, ServerTls{server_cert.cert, server_cert.key, ca.pem});

  auto tls = Tls({.ca_pem = ca.pem, .client_cert_pem = client_cert.cert, .client_key_pem = client_cert.key});
  auto first = Dial("127.0.0.1", server.port(), tls);
  REQUIRE(first->Connect(In(2s)).ok());
  auto r = RoundTrip(*first, {});
  REQUIRE(r.ok());
  CHECK(r->body == "hi alice");
  CHECK_FALSE(first->tls_session_reused());

  auto second = Dial("127.0.0.1", server.port(), tls);
  REQUIRE(second->Connect(In(2s)).ok());
  auto again = RoundTrip(*second, {});
  REQUIRE(again.ok());
  CHECK(again->body == "hi alice");  // the identity survives resumption
  CHECK(second->tls_session_reused());

  auto anonymous = Dial("127.0.0.1", server.port(), Tls({.ca_pem = ca.pem}));
  REQUIRE(anonymous->Connect(In(2s)).ok());
  auto nobody = RoundTrip(*anonymous, {});
  REQUIRE(nobody.ok());
  CHECK(nobody->body == "hi ");
  std::lock_guard<std::mutex> lock(mu);
  CHECK(seen_cns.at(0) == "alice");
}

TEST_CASE("tls context: bad material is kInvalidArgument") {
  TestCa ca;
  Pem client = ca.Client("bob");
  Pem other = ca.Client("carol");
  CHECK(TlsContext::Create({.ca_pem = ""}).status().code() == StatusCode::kInvalidArgument);
  CHECK(TlsContext::Create({.ca_pem = "junk"}).status().code() == StatusCode::kInvalidArgument);
  CHECK(TlsContext::Create({.ca_pem = "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n"}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(TlsContext::Create({.ca_pem = ca.pem, .client_cert_pem = client.cert}).status().code() ==
        StatusCode::kInvalidArgument);
  CHECK(TlsContext::Create({.ca_pem = ca.pem, .client_cert_pem = client.cert, .client_key_pem = other.key})
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(TlsContext::Create({.ca_pem = ca.pem + ca.pem, .client_cert_pem = client.cert, .client_key_pem = client.key}).ok());
  CHECK(TlsContext::Create({.verify = false}).ok());
}

}  // namespace
}  // namespace kite::net::http
