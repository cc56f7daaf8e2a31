// URLs and header lists.
#include <catch2/catch.hpp>

#include "src/net/http/headers.h"
#include "src/net/http/url.h"

namespace kite::net::http {
namespace {

TEST_CASE("url: scheme, host, port and target") {
  auto u = ParseUrl("HTTPS://Example.com:8443/a/b?c=d#frag");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->host == "Example.com");
  CHECK(u->port == 8443);
  CHECK(u->port_given);
  CHECK(u->target == "/a/b?c=d");
  CHECK(u->HostPort() == "Example.com:8443");
  CHECK(u->ToString() == "https://Example.com:8443/a/b?c=d");

  auto plain = ParseUrl("http://10.0.0.1");
  REQUIRE(plain.ok());
  CHECK(plain->port == 80);
  CHECK_FALSE(plain->port_given);
  CHECK(plain->target == "/");
  CHECK(plain->Authority() == "10.0.0.1");
  CHECK(ParseUrl("https://h?x=1")->target == "/?x=1");
  CHECK(ParseUrl("https://h")->port == 443);
  CHECK(ParseUrl("http://h:/x")->port == 80);

  auto v6 = ParseUrl("http://[::1]:8080/healthz");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->port == 8080);
  CHECK(v6->HostPort() == "[::1]:8080");
  CHECK(v6->Authority() == "[::1]:8080");
  CHECK(IsIpLiteral("::1"));
  CHECK(IsIpLiteral("127.0.0.1"));
  CHECK_FALSE(IsIpLiteral("localhost"));
}

TEST_CASE("url: malformed ones are kInvalidArgument") {
  for (const char* bad : {"", "example.com", "http://", "http://:80/", "http://h:0/", "http://h:65536/", "http://h:x/",
                          "http://[::1/", "http://[zz]/", "http://u@h/", "http://h/a b", "http://h/\r\n", "ftp://h/",
                          "http://h^/", "http://[::1]x/"}) {
    INFO(bad);
    auto u = ParseUrl(bad);
    REQUIRE_FALSE(u.ok());
    CHECK(u.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(ParseUrl("ftp://h:21/").ok());  // any scheme with a port
}

TEST_CASE("url: references resolve against the base") {
  auto base = ParseUrl("http://h:1/a/b/c?q=1");
  REQUIRE(base.ok());
  auto resolve = [&](const char* ref) {
    auto r = ResolveReference(*base, ref);
    REQUIRE(r.ok());
    return r->ToString();
  };
  CHECK(resolve("https://other:2/x") == "https://other:2/x");
  CHECK(resolve("//other/x") == "http://other/x");
  CHECK(resolve("/root?z") == "http://h:1/root?z");
  CHECK(resolve("d") == "http://h:1/a/b/d");
  CHECK(resolve("../d") == "http://h:1/a/d");
  CHECK(resolve("./") == "http://h:1/a/b/");
  CHECK(resolve("../../../../x") == "http://h:1/x");
  CHECK(resolve("?y=2") == "http://h:1/a/b/c?y=2");
  CHECK(resolve("") == "http://h:1/a/b/c?q=1");
  CHECK(resolve("/a/./b/../c#f") == "http://h:1/a/c");
  CHECK_FALSE(ResolveReference(*base, "/a b").ok());
}

TEST_CASE("headers: ordered, looked up without case") {
  Headers h{{"Content-Type", "a"}, {"X-Many", "1"}};
  h.Add("x-many", "2");
  h.Add("Connection", "keep-alive, Close");
  CHECK(h.Get("content-type") == "a");
  CHECK(h.Get("missing").empty());
  CHECK(h.Find("missing") == nullptr);
  CHECK(h.GetAll("X-MANY") == std::vector<std::string>{"1", "2"});
  CHECK(h.HasToken("connection", "close"));
  CHECK_FALSE(h.HasToken("connection", "upgrade"));
  h.Remove("X-Many");
  CHECK(h.size() == 2);
  CHECK(h.entries()[1].first == "Connection");
  CHECK(EqualsIgnoreCase("Host", "hOST"));
  CHECK_FALSE(EqualsIgnoreCase("Host", "Hos"));
}

}  // namespace
}  // namespace kite::net::http
