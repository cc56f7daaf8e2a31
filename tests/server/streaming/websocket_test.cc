#include "src/server/streaming/websocket.h"

#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "src/server/streaming/socket_connection.h"

namespace kite::streaming {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

WebSocketFrame ParseOne(const std::string& wire, bool expect_masked) {
  WebSocketFrameParser parser(expect_masked, 1 << 20);
  parser.Append(wire);
  auto frame = parser.Next();
  REQUIRE(frame.ok());
  REQUIRE(frame->has_value());
  return **frame;
}

TEST_CASE("Sec-WebSocket-Accept is computed as RFC 6455 shows") {
  CHECK(WebSocketAccept("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  std::string key = NewWebSocketKey();
  CHECK(key.size() == 24);  // 16 bytes in base64
  CHECK(key != NewWebSocketKey());
}

TEST_CASE("frames encode as in RFC 6455's examples") {
  // Section 5.7: a single-frame unmasked text message "Hello" ...
  CHECK(EncodeWebSocketFrame(WebSocketOpcode::kText, "Hello", true, std::nullopt) ==
        Bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  // ... and the same masked with key 37 fa 21 3d.
  std::array<uint8_t, 4> key{0x37, 0xfa, 0x21, 0x3d};
  std::string masked = EncodeWebSocketFrame(WebSocketOpcode::kText, "Hello", true, key);
  CHECK(masked == Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  WebSocketFrame decoded = ParseOne(masked, /*expect_masked=*/true);
  CHECK(decoded.payload == "Hello");
  CHECK(decoded.masked);
  CHECK(decoded.opcode == WebSocketOpcode::kText);
  // 256 bytes take the 16-bit length, 65536 bytes the 64-bit one.
  std::string medium = EncodeWebSocketFrame(WebSocketOpcode::kBinary, std::string(256, 'x'),
                                            true, std::nullopt);
  CHECK(medium.substr(0, 4) == Bytes({0x82, 0x7E, 0x01, 0x00}));
  std::string large = EncodeWebSocketFrame(WebSocketOpcode::kBinary, std::string(65536, 'y'),
                                           true, std::nullopt);
  CHECK(large.substr(0, 10) == Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  CHECK(ParseOne(large, false).payload == std::string(65536, 'y'));
  CHECK(ParseOne(medium, false).payload.size() == 256);
}

TEST_CASE("the frame parser waits for whole frames and splits several") {
  std::string wire = Bytes({0x01, 0x03, 'H', 'e', 'l'}) + Bytes({0x80, 0x02, 'l', 'o'});
  WebSocketFrameParser parser(false, 1024);
  parser.Append(wire.substr(0, 3));
  auto none = parser.Next();
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
  parser.Append(wire.substr(3));
  auto first = parser.Next();
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK_FALSE((*first)->fin);
  CHECK((*first)->payload == "Hel");
  auto second = parser.Next();
  REQUIRE(second.ok());
  REQUIRE(second->has_value());
  CHECK((*second)->fin);
  CHECK((*second)->opcode == WebSocketOpcode::kContinuation);
  CHECK((*second)->payload == "lo");
}

TEST_CASE("the frame parser refuses protocol violations") {
  auto error_of = [](const std::string& wire, bool expect_masked) {
    WebSocketFrameParser parser(expect_masked, 100);
    parser.Append(wire);
    auto frame = parser.Next();
    REQUIRE_FALSE(frame.ok());
    return frame.status().code();
  };
  // A client frame without a mask, on a server.
  CHECK(error_of(Bytes({0x82, 0x01, 'a'}), true) == StatusCode::kInvalidArgument);
  // A masked frame on a client.
  CHECK(error_of(Bytes({0x82, 0x81, 1, 2, 3, 4, 'a'}), false) == StatusCode::kInvalidArgument);
  // Reserved bits without an extension.
  CHECK(error_of(Bytes({0xC2, 0x00}), false) == StatusCode::kInvalidArgument);
  // Unknown opcode 3.
  CHECK(error_of(Bytes({0x83, 0x00}), false) == StatusCode::kInvalidArgument);
  // A fragmented ping and a ping longer than 125 bytes.
  CHECK(error_of(Bytes({0x09, 0x00}), false) == StatusCode::kInvalidArgument);
  CHECK(error_of(Bytes({0x89, 0x7E, 0x00, 0x80}), false) == StatusCode::kInvalidArgument);
  // Above the payload limit.
  CHECK(error_of(Bytes({0x82, 0x7E, 0x01, 0x00}), false) == StatusCode::kResourceExhausted);
}

TEST_CASE("a WebSocket connection assembles fragments, answers pings and closes") {
  SocketPair pair = MakeSocketPair();
  WebSocketConnection server(*pair.first, WebSocketConnection::Role::kServer);
  WebSocketConnection client(*pair.second, WebSocketConnection::Role::kClient);

  // A fragmented binary message with a ping between its fragments.
  REQUIRE(client.SendFrame(WebSocketOpcode::kBinary, std::string("\x01", 1) + "ab", false));
  REQUIRE(client.SendPing("are you there"));
  REQUIRE(client.SendFrame(WebSocketOpcode::kContinuation, "cd", false));
  REQUIRE(client.SendFrame(WebSocketOpcode::kContinuation, "ef", true));
  REQUIRE(client.SendText("second"));

  auto first = server.Read();
  REQUIRE(first.ok());
  CHECK(first->type == WebSocketOpcode::kBinary);
  CHECK(first->data == std::string("\x01", 1) + "abcdef");
  auto second = server.Read();
  REQUIRE(second.ok());
  CHECK(second->type == WebSocketOpcode::kText);
  CHECK(second->data == "second");

  // The pong came back unmasked (the client's parser insists) and is not a message.
  REQUIRE(server.SendBinary("reply"));
  auto reply = client.Read();
  REQUIRE(reply.ok());
  CHECK(reply->data == "reply");

  // Close handshake: the server answers the client's close with the same code.
  REQUIRE(client.SendClose(kWsCloseNormal, "bye"));
  auto end = server.Read();
  CHECK(end.status().code() == StatusCode::kUnavailable);
  CHECK(server.peer_close_code() == kWsCloseNormal);
  CHECK(server.close_sent());
  auto client_end = client.Read();
  CHECK(client_end.status().code() == StatusCode::kUnavailable);
  CHECK(client.peer_close_code() == kWsCloseNormal);
  // Reading after the end keeps failing.
  CHECK_FALSE(server.Read().ok());
}

TEST_CASE("an oversized message closes the connection with 1009") {
  SocketPair pair = MakeSocketPair();
  WebSocketConnection server(*pair.first, WebSocketConnection::Role::kServer, 10);
  WebSocketConnection client(*pair.second, WebSocketConnection::Role::kClient);
  REQUIRE(client.SendFrame(WebSocketOpcode::kBinary, "123456", false));
  REQUIRE(client.SendFrame(WebSocketOpcode::kContinuation, "789012", true));
  auto message = server.Read();
  CHECK(message.status().code() == StatusCode::kResourceExhausted);
  CHECK_FALSE(client.Read().ok());
  CHECK(client.peer_close_code() == kWsCloseTooBig);
}

TEST_CASE("a WebSocket byte stream carries bytes across message boundaries") {
  SocketPair pair = MakeSocketPair();
  WebSocketConnection server_ws(*pair.first, WebSocketConnection::Role::kServer);
  WebSocketConnection client_ws(*pair.second, WebSocketConnection::Role::kClient);
  WebSocketByteStream server(server_ws, *pair.first);
  WebSocketByteStream client(client_ws, *pair.second);
  REQUIRE(client.Write("hello "));
  REQUIRE(client.Write(""));  // an empty message is skipped by the reader
  REQUIRE(client.Write("world"));
  std::string got;
  char buffer[4];
  while (got.size() < 11) {
    size_t n = server.Read(buffer, sizeof(buffer));
    REQUIRE(n > 0);
    got.append(buffer, n);
  }
  CHECK(got == "hello world");
  client.Close();
  CHECK(server.Read(buffer, sizeof(buffer)) == 0);
}

}  // namespace
}  // namespace kite::streaming
