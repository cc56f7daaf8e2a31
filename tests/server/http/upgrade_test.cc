// HTTP upgrades in HttpsServer: the 101 answer, the raw byte stream after it (bytes sent
// with the request head first), a reader and a writer at once, and Stop while a session
// blocks in Read.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "src/server/http/https_server.h"
#include "tests/server/http/raw_tls_client.h"
#include "tests/server/http/test_certs.h"

namespace kite::http {
namespace {

using namespace std::chrono_literals;

// A write to a connection the server closed must fail, not kill the test.
const bool kIgnoreSigpipe = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();

using Client = ::kite::testing::RawTlsClient;

std::string UpgradeRequest(const std::string& path) {
  return "GET " + path +
         " HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: kite-test\r\n\r\n";
}

// Serves /echo (echo every byte back), /ticks (a writer thread sends "tick\n" while the
// session reads, until it reads "stop"), /block (one Read, its result recorded), /hello
// (writes and returns at once), /broken (an upgrade without a session) and plain GETs.
class UpgradeHandler : public Handler {
 public:
  HandlerResult Handle(Request& request) override {
    if (request.path == "/plain") {
      Response r;
      r.content_type = "text/plain";
      r.body = "plain";
      return r;
    }
    UpgradeResponse up;
    up.headers = {{"Upgrade", "kite-test"}, {"Connection", "Upgrade"}, {"X-Extra", "1"}};
    if (request.path == "/echo") {
      up.session = [this](UpgradedConnection& c) {
        char buf[1024];
        for (;;) {
          size_t n = c.Read(buf, sizeof buf);
          if (n == 0) break;
          if (!c.Write(std::string_view(buf, n))) break;
        }
        sessions_ended++;
      };
    } else if (request.path == "/ticks") {
      up.session = [this](UpgradedConnection& c) {
        std::atomic<bool> stop{false};
        std::thread writer([&] {
          while (!stop) {
            if (!c.Write("tick\n")) return;
            ticks_written++;
            std::this_thread::sleep_for(10ms);
          }
        });
        std::string got;
        char buf[64];
        while (got.find("stop") == std::string::npos) {
          size_t n = c.Read(buf, sizeof buf);
          if (n == 0) break;
          got.append(buf, n);
        }
        stop = true;
        writer.join();
        c.Write("bye\n");
        sessions_ended++;
      };
    } else if (request.path == "/block") {
      up.session = [this](UpgradedConnection& c) {
        in_read = true;
        char buf[16];
        block_read_result = static_cast<int>(c.Read(buf, sizeof buf));
        block_write_ok = c.Write("late") ? 1 : 0;
        sessions_ended++;
      };
    } else if (request.path == "/close") {
      up.session = [this](UpgradedConnection& c) {
        std::thread reader([&] {
          char buf[16];
          in_read = true;
          block_read_result = static_cast<int>(c.Read(buf, sizeof buf));
        });
        while (!in_read) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(20ms);
        c.Write("last words");
        c.Close();  // ends the blocked Read; the bytes written still arrive
        reader.join();
        block_write_ok = c.Write("too late") ? 1 : 0;
        sessions_ended++;
      };
    } else if (request.path == "/hello") {
      up.session = [this](UpgradedConnection& c) {
        c.Write("hello and goodbye");
        sessions_ended++;
      };
    }
    return up;
  }

  std::atomic<int> sessions_ended{0};
  std::atomic<int> ticks_written{0};
  std::atomic<bool> in_read{false};
  std::atomic<int> block_read_result{-1};
  std::atomic<int> block_write_ok{-1};
};

struct Fixture {
  Fixture() : ca("upgrade-test-ca") {
    testing::CertAndKey serving = ca.IssueServer();
    HttpsServerOptions options;
    options.port = 0;
    options.server_cert_pem = serving.cert_pem;
    options.server_key_pem = serving.key_pem;
    options.network_threads = 2;
    options.handler_threads = 2;
    options.request_timeout = std::chrono::seconds(1);  // upgraded connections ignore it
    options.idle_timeout = std::chrono::seconds(1);
    auto started = HttpsServer::Start(options, &handler);
    REQUIRE(started.ok());
    server = std::move(started).value();
  }
  testing::TestCa ca;
  UpgradeHandler handler;
  std::unique_ptr<HttpsServer> server;
};

bool Eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

TEST_CASE("upgrade: 101 with the handler's headers, then an echo; bytes sent with the head come first") {
  Fixture f;
  auto client = std::make_unique<Client>(f.server->port());
  Client& c = *client;
  REQUIRE(c.connected());
  // "early" travels in the same TLS write as the request head.
  REQUIRE(c.Write(UpgradeRequest("/echo") + "early"));
  std::string head = c.ReadThrough("\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0) == 0);
  CHECK(head.find("Upgrade: kite-test\r\n") != std::string::npos);
  CHECK(head.find("Connection: Upgrade\r\n") != std::string::npos);
  CHECK(head.find("X-Extra: 1\r\n") != std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos);
  CHECK(c.ReadThrough("early") == "early");

  // Longer than the request timeout: upgraded connections have no timeouts.
  std::this_thread::sleep_for(1500ms);
  REQUIRE(c.Write("second message"));
  CHECK(c.ReadThrough("message") == "second message");
  std::string big(200000, 'x');
  big.back() = 'Z';
  REQUIRE(c.Write(big));
  CHECK(c.ReadThrough("Z").size() == big.size());

  c.CloseWrite();  // the session's Read returns 0, it returns, the server closes
  CHECK(c.ReadsEnd());
  CHECK(Eventually([&] { return f.handler.sessions_ended == 1; }));
  client.reset();  // the server's short drain after its FIN ends at the client's close
  CHECK(Eventually([&] { return f.server->open_connections() == 0; }, 1000ms));
}

TEST_CASE("upgrade: a writer thread sends while the session thread blocks in Read") {
  Fixture f;
  Client c(f.server->port());
  REQUIRE(c.connected());
  REQUIRE(c.Write(UpgradeRequest("/ticks")));
  REQUIRE(c.ReadThrough("\r\n\r\n").find(" 101 ") != std::string::npos);
  // Three ticks arrive while the other thread sits in Read (the client sent nothing yet).
  for (int i = 0; i < 3; ++i) CHECK(c.ReadThrough("tick\n") == "tick\n");
  REQUIRE(c.Write("sto"));
  REQUIRE(c.Write("p"));
  std::string rest = c.ReadThrough("bye\n");
  CHECK(rest.size() >= 4);
  CHECK(rest.substr(rest.size() - 4) == "bye\n");
  CHECK(c.ReadsEnd());  // the session returned: the server ended the connection
  CHECK(f.handler.ticks_written >= 3);
  CHECK(Eventually([&] { return f.handler.sessions_ended == 1; }));
}

TEST_CASE("upgrade: what the session writes before returning reaches the client, then EOF") {
  Fixture f;
  Client c(f.server->port());
  REQUIRE(c.connected());
  REQUIRE(c.Write(UpgradeRequest("/hello")));
  REQUIRE(!c.ReadThrough("\r\n\r\n").empty());
  CHECK(c.ReadThrough("goodbye") == "hello and goodbye");
  CHECK(c.ReadsEnd());
}

TEST_CASE("upgrade: Close from the session ends a blocked Read; what was written still arrives") {
  Fixture f;
  Client c(f.server->port());
  REQUIRE(c.connected());
  REQUIRE(c.Write(UpgradeRequest("/close")));
  REQUIRE(!c.ReadThrough("\r\n\r\n").empty());
  CHECK(c.ReadThrough("words") == "last words");
  CHECK(c.ReadsEnd());
  CHECK(Eventually([&] { return f.handler.sessions_ended == 1; }));
  CHECK(f.handler.block_read_result == 0);
  CHECK(f.handler.block_write_ok == 0);
}

TEST_CASE("upgrade: Stop while a session blocks in Read returns promptly and ends the session") {
  Fixture f;
  Client c(f.server->port());
  REQUIRE(c.connected());
  REQUIRE(c.Write(UpgradeRequest("/block")));
  REQUIRE(!c.ReadThrough("\r\n\r\n").empty());
  REQUIRE(Eventually([&] { return f.handler.in_read.load(); }));
  std::this_thread::sleep_for(50ms);  // well inside Read by now
  CHECK(f.handler.sessions_ended == 0);
  auto start = std::chrono::steady_clock::now();
  f.server->Stop();
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(f.handler.sessions_ended == 1);  // Stop joined it
  CHECK(f.handler.block_read_result == 0);
  CHECK(f.handler.block_write_ok == 0);
  CHECK(f.server->open_connections() == 0);
  CHECK(c.ReadsEnd());
}

TEST_CASE("upgrade: plain requests still work beside upgraded connections; an upgrade without a session is a 500") {
  Fixture f;
  Client up(f.server->port());
  REQUIRE(up.connected());
  REQUIRE(up.Write(UpgradeRequest("/echo")));
  REQUIRE(!up.ReadThrough("\r\n\r\n").empty());

  Client plain(f.server->port());
  REQUIRE(plain.connected());
  REQUIRE(plain.Write("GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string head = plain.ReadThrough("\r\n\r\n");
  CHECK(head.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(plain.ReadThrough("plain") == "plain");

  Client broken(f.server->port());
  REQUIRE(broken.connected());
  REQUIRE(broken.Write(UpgradeRequest("/broken")));
  CHECK(broken.ReadThrough("\r\n\r\n").rfind("HTTP/1.1 500", 0) == 0);

  REQUIRE(up.Write("still here"));
  CHECK(up.ReadThrough("here") == "still here");
}

}  // namespace
}  // namespace kite::http
