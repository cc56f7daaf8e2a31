// The wire helpers and status mappings of the gRPC client, without a peer.
#include "src/net/grpc/grpc_wire.h"

#include <catch2/catch.hpp>

#include "src/net/grpc/grpc_code.h"
#include "src/net/grpc/grpc_connection.h"

namespace kite::net {
namespace {

using namespace std::chrono_literals;

TEST_CASE("grpc wire: message framing round-trips through the reader in any chunks") {
  std::string one = FrameGrpcMessage("hello");
  REQUIRE(one.size() == 10);
  CHECK(one.substr(0, 5) == std::string("\0\0\0\0\5", 5));
  std::string big(70000, 'x');
  std::string stream = one + FrameGrpcMessage("") + FrameGrpcMessage(big);
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{4096}, stream.size()}) {
    GrpcMessageReader reader(1 << 20);
    for (size_t i = 0; i < stream.size(); i += chunk) {
      REQUIRE(reader.Feed(std::string_view(stream).substr(i, chunk)));
    }
    CHECK_FALSE(reader.mid_message());
    REQUIRE(reader.messages().size() == 3);
    CHECK(reader.messages()[0] == "hello");
    CHECK(reader.messages()[1].empty());
    CHECK(reader.messages()[2] == big);
  }
  GrpcMessageReader partial(100);
  REQUIRE(partial.Feed(one.substr(0, 7)));
  CHECK(partial.mid_message());
  CHECK(partial.messages().empty());
}

TEST_CASE("grpc wire: the reader refuses oversized and compressed messages at the prefix") {
  GrpcMessageReader reader(16);
  CHECK(reader.Feed(FrameGrpcMessage(std::string(16, 'a'))));
  CHECK_FALSE(reader.Feed(std::string("\0\0\0\0\x11", 5)));  // 17 bytes announced
  CHECK(reader.error_code() == GrpcCode::kResourceExhausted);
  CHECK(reader.error_message() == "Received message larger than max (17 vs. 16)");
  CHECK_FALSE(reader.Feed("more"));  // stays failed
  CHECK(reader.messages().size() == 1);

  GrpcMessageReader compressed(100);
  CHECK_FALSE(compressed.Feed(std::string("\1\0\0\0\1z", 6)));
  CHECK(compressed.error_code() == GrpcCode::kInternal);
}

TEST_CASE("grpc wire: grpc-timeout uses at most 8 digits, rounding up") {
  CHECK(EncodeGrpcTimeout(1500ms) == "1500m");
  CHECK(EncodeGrpcTimeout(0ms) == "0m");
  CHECK(EncodeGrpcTimeout(-5ms) == "0m");
  CHECK(EncodeGrpcTimeout(99999999ms) == "99999999m");
  CHECK(EncodeGrpcTimeout(100000000ms) == "100000S");
  CHECK(EncodeGrpcTimeout(100000001ms) == "100001S");
  CHECK(EncodeGrpcTimeout(std::chrono::hours(24 * 365 * 10)) == "5256000M");
  CHECK(EncodeGrpcTimeout(std::chrono::hours(int64_t{24} * 365 * 1000000)) == "99999999H");
}

TEST_CASE("grpc wire: grpc-message percent-decoding keeps malformed escapes") {
  CHECK(PercentDecode("plain text") == "plain text");
  CHECK(PercentDecode("100%25 sure%0D%0a") == "100% sure\r\n");
  CHECK(PercentDecode("%C3%A9t%c3%a9") == "\xc3\xa9t\xc3\xa9");
  CHECK(PercentDecode("50% off") == "50% off");
  CHECK(PercentDecode("trailing %4") == "trailing %4");
  CHECK(PercentDecode("%") == "%");
  CHECK(PercentDecode("%zz") == "%zz");
}

TEST_CASE("grpc codes: names and the HTTP and HTTP/2 error mappings") {
  CHECK(GrpcCodeName(GrpcCode::kDeadlineExceeded) == "DEADLINE_EXCEEDED");
  CHECK(GrpcCodeName(GrpcCode::kUnauthenticated) == "UNAUTHENTICATED");
  CHECK(GrpcCodeFromNumber(14) == GrpcCode::kUnavailable);
  CHECK(GrpcCodeFromNumber(17) == GrpcCode::kUnknown);
  CHECK(GrpcCodeFromNumber(-1) == GrpcCode::kUnknown);
  CHECK(GrpcCodeFromHttpStatus(400) == GrpcCode::kInternal);
  CHECK(GrpcCodeFromHttpStatus(401) == GrpcCode::kUnauthenticated);
  CHECK(GrpcCodeFromHttpStatus(403) == GrpcCode::kPermissionDenied);
  CHECK(GrpcCodeFromHttpStatus(404) == GrpcCode::kUnimplemented);
  for (int status : {429, 502, 503, 504})
    CHECK(GrpcCodeFromHttpStatus(status) == GrpcCode::kUnavailable);
  CHECK(GrpcCodeFromHttpStatus(500) == GrpcCode::kUnknown);
  CHECK(GrpcCodeFromHttp2Error(0x7) == GrpcCode::kUnavailable);
  CHECK(GrpcCodeFromHttp2Error(0x8) == GrpcCode::kCancelled);
  CHECK(GrpcCodeFromHttp2Error(0xb) == GrpcCode::kResourceExhausted);
  CHECK(GrpcCodeFromHttp2Error(0xc) == GrpcCode::kPermissionDenied);
  CHECK(GrpcCodeFromHttp2Error(0x1) == GrpcCode::kInternal);
  CHECK(GrpcCodeFromHttp2Error(0x0) == GrpcCode::kInternal);
}

TEST_CASE("grpc target: unix paths, host:port and bracketed IPv6") {
  auto unix1 = ParseGrpcTarget("unix:/run/containerd/containerd.sock");
  REQUIRE(unix1.ok());
  CHECK(unix1->unix_socket);
  CHECK(unix1->path == "/run/containerd/containerd.sock");
  CHECK(unix1->authority == "localhost");
  auto unix3 = ParseGrpcTarget("unix:///tmp/a.sock");
  REQUIRE(unix3.ok());
  CHECK(unix3->path == "/tmp/a.sock");
  auto relative = ParseGrpcTarget("unix:a.sock");
  REQUIRE(relative.ok());
  CHECK(relative->path == "a.sock");

  auto tcp = ParseGrpcTarget("127.0.0.1:50051");
  REQUIRE(tcp.ok());
  CHECK_FALSE(tcp->unix_socket);
  CHECK(tcp->host == "127.0.0.1");
  CHECK(tcp->port == "50051");
  CHECK(tcp->authority == "127.0.0.1:50051");
  auto v6 = ParseGrpcTarget("[::1]:80");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  CHECK(v6->authority == "[::1]:80");

  for (const char* bad : {"", "unix:", "unix://relative", "localhost", "host:", ":80", "host:0",
                          "host:65536", "host:8x", "::1:80", "[::1]80", "[::1"}) {
    auto parsed = ParseGrpcTarget(bad);
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(ParseGrpcTarget("unix:/" + std::string(200, 'x')).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kite::net
