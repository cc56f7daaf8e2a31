#include <zlib.h>

#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "src/server/streaming/socket_connection.h"
#include "src/server/streaming/spdy_frames.h"
#include "src/server/streaming/spdy_session.h"

namespace kite::streaming {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

SpdyFrame RoundTrip(SpdyFramer& framer, SpdyFrameParser& parser, const SpdyFrame& frame) {
  auto bytes = framer.Encode(frame);
  REQUIRE(bytes.ok());
  parser.Append(*bytes);
  auto parsed = parser.Next();
  REQUIRE(parsed.ok());
  REQUIRE(parsed->has_value());
  return **parsed;
}

std::string ReadAll(SpdyStream& stream) {
  std::string out;
  char buffer[8192];
  while (size_t n = stream.Read(buffer, sizeof(buffer))) out.append(buffer, n);
  return out;
}

TEST_CASE("the SPDY/3 dictionary is the 1423 bytes of the draft") {
  std::string_view dict = SpdyDictionary();
  CHECK(dict.size() == 1423);
  CHECK(dict.substr(0, 11) == Bytes({0, 0, 0, 7}) + "options");
  CHECK(dict.substr(dict.size() - 6) == "enq=0.");
  CHECK(dict.find(Bytes({0, 0, 0, 8}) + "HTTP/1.1") != std::string_view::npos);
}

TEST_CASE("header blocks encode with lower-case names and decode back") {
  SpdyHeaders headers = {{"StreamType", "error"}, {"port", "8080"}, {"multi", "a\0b"}};
  headers[2].second = std::string("a\0b", 3);
  std::string block = EncodeSpdyHeaderBlock(headers);
  CHECK(block.substr(0, 4) == Bytes({0, 0, 0, 3}));
  CHECK(block.substr(4, 14) == Bytes({0, 0, 0, 10}) + "streamtype");
  auto decoded = DecodeSpdyHeaderBlock(block);
  REQUIRE(decoded.ok());
  REQUIRE(decoded->size() == 3);
  CHECK((*decoded)[0].first == "streamtype");
  CHECK(SpdyHeaderValue(*decoded, "STREAMTYPE") == "error");
  CHECK((*decoded)[2].second == std::string("a\0b", 3));
  // Truncated and lying blocks are refused, not read past their end.
  CHECK_FALSE(DecodeSpdyHeaderBlock(block.substr(0, block.size() - 1)).ok());
  CHECK_FALSE(DecodeSpdyHeaderBlock(Bytes({0x7F, 0xFF, 0xFF, 0xFF})).ok());
  CHECK_FALSE(DecodeSpdyHeaderBlock(Bytes({0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF})).ok());
}

TEST_CASE("compressed header blocks use the dictionary and one zlib stream per direction") {
  SpdyFramer framer;
  SpdyFrameParser parser;
  SpdyHeaders headers = {{"streamtype", "data"}, {"port", "80"}, {"requestid", "0"}};
  auto bytes = framer.Encode(SpdyFramer::SynStream(1, headers, false));
  REQUIRE(bytes.ok());
  // Control bit, version 3, type 1; then the zlib header of the block after 18 bytes.
  CHECK(bytes->substr(0, 4) == Bytes({0x80, 0x03, 0x00, 0x01}));
  const auto* zhead = reinterpret_cast<const uint8_t*>(bytes->data()) + 18;
  CHECK((zhead[1] & 0x20) != 0);  // FDICT: a preset dictionary is named
  uint32_t dict_id = (uint32_t{zhead[2]} << 24) | (uint32_t{zhead[3]} << 16) |
                     (uint32_t{zhead[4]} << 8) | zhead[5];
  std::string_view dict = SpdyDictionary();
  CHECK(dict_id == adler32(adler32(0, nullptr, 0), reinterpret_cast<const Bytef*>(dict.data()),
                           static_cast<uInt>(dict.size())));
  parser.Append(*bytes);
  auto first = parser.Next();
  REQUIRE(first.ok());
  REQUIRE(first->has_value());
  CHECK((*first)->type == SpdyFrameType::kSynStream);
  CHECK((*first)->stream_id == 1);
  CHECK((*first)->headers == headers);

  // Later blocks continue the same compression context (and are shorter for it).
  for (int i = 0; i < 5; ++i) {
    SpdyHeaders more = {{"streamtype", "error"}, {"port", "80"},
                        {"requestid", std::to_string(i)}};
    SpdyFrame reply = RoundTrip(framer, parser, SpdyFramer::SynReply(3 + 2 * i, more, i == 4));
    CHECK(reply.type == SpdyFrameType::kSynReply);
    CHECK(reply.headers == more);
    CHECK(reply.fin() == (i == 4));
  }
  // A fresh parser cannot read a block from the middle of the stream.
  SpdyFrameParser fresh;
  auto later = framer.Encode(SpdyFramer::SynStream(21, headers, false));
  REQUIRE(later.ok());
  fresh.Append(*later);
  CHECK_FALSE(fresh.Next().ok());
}

TEST_CASE("every SPDY frame type round-trips") {
  SpdyFramer framer;
  SpdyFrameParser parser;
  SpdyFrame data = RoundTrip(framer, parser, SpdyFramer::Data(5, "payload", true));
  CHECK(data.type == SpdyFrameType::kData);
  CHECK(data.stream_id == 5);
  CHECK(data.data == "payload");
  CHECK(data.fin());
  auto wire = framer.Encode(SpdyFramer::Data(5, "ab", false));
  REQUIRE(wire.ok());
  CHECK(*wire == Bytes({0, 0, 0, 5, 0, 0, 0, 2, 'a', 'b'}));

  SpdyFrame rst = RoundTrip(framer, parser, SpdyFramer::RstStream(7, kSpdyCancel));
  CHECK(rst.type == SpdyFrameType::kRstStream);
  CHECK(rst.stream_id == 7);
  CHECK(rst.status == kSpdyCancel);
  auto rst_wire = framer.Encode(SpdyFramer::RstStream(7, kSpdyCancel));
  REQUIRE(rst_wire.ok());
  CHECK(*rst_wire == Bytes({0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 5}));

  SpdyFrame ping = RoundTrip(framer, parser, SpdyFramer::Ping(42));
  CHECK(ping.type == SpdyFrameType::kPing);
  CHECK(ping.ping_id == 42);

  SpdyFrame goaway = RoundTrip(framer, parser, SpdyFramer::GoAway(9, 0));
  CHECK(goaway.type == SpdyFrameType::kGoAway);
  CHECK(goaway.last_good_stream_id == 9);

  SpdyFrame update = RoundTrip(framer, parser, SpdyFramer::WindowUpdate(3, 32768));
  CHECK(update.type == SpdyFrameType::kWindowUpdate);
  CHECK(update.stream_id == 3);
  CHECK(update.delta_window == 32768);

  SpdyFrame settings;
  settings.type = SpdyFrameType::kSettings;
  settings.settings = {{0, kSpdySettingsInitialWindowSize, 1 << 20}, {1, 4, 100}};
  SpdyFrame parsed = RoundTrip(framer, parser, settings);
  CHECK(parsed.type == SpdyFrameType::kSettings);
  REQUIRE(parsed.settings.size() == 2);
  CHECK(parsed.settings[0].id == kSpdySettingsInitialWindowSize);
  CHECK(parsed.settings[0].value == (1u << 20));
  CHECK(parsed.settings[1].flags == 1);

  SpdyFrame headers;
  headers.type = SpdyFrameType::kHeaders;
  headers.stream_id = 11;
  headers.headers = {{"x", "y"}};
  SpdyFrame parsed_headers = RoundTrip(framer, parser, headers);
  CHECK(parsed_headers.type == SpdyFrameType::kHeaders);
  CHECK(parsed_headers.headers == headers.headers);

  // An unknown control type (NOOP, 5) is reported, not an error; a wrong version is.
  parser.Append(Bytes({0x80, 3, 0, 5, 0, 0, 0, 0}));
  auto unknown = parser.Next();
  REQUIRE(unknown.ok());
  REQUIRE(unknown->has_value());
  CHECK((*unknown)->type == SpdyFrameType::kUnknown);
  CHECK((*unknown)->raw_type == 5);
  parser.Append(Bytes({0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1}));
  CHECK_FALSE(parser.Next().ok());
}

TEST_CASE("malformed control frames are refused") {
  auto error = [](const std::string& wire) {
    SpdyFrameParser parser;
    parser.Append(wire);
    return !parser.Next().ok();
  };
  CHECK(error(Bytes({0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1})));        // short RST_STREAM
  CHECK(error(Bytes({0x80, 3, 0, 6, 0, 0, 0, 2, 0, 1})));              // short PING
  CHECK(error(Bytes({0x80, 3, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1})));        // short SYN_STREAM
  CHECK(error(Bytes({0x80, 3, 0, 4, 0, 0, 0, 4, 0, 0, 0, 2})));        // SETTINGS count lies
  // A header block that is not zlib.
  CHECK(error(Bytes({0x80, 3, 0, 2, 0, 0, 0, 8, 0, 0, 0, 1, 'j', 'u', 'n', 'k'})));
}

struct SessionPair {
  SocketPair sockets = MakeSocketPair();
  SpdySession client;
  SpdySession server;
  SessionPair(SpdySessionOptions client_options, SpdySessionOptions server_options)
      : client(*sockets.first, client_options), server(*sockets.second, server_options) {
    client.Start();
    server.Start();
  }
};

SpdySessionOptions ClientOptions() { return SpdySessionOptions{}; }
SpdySessionOptions ServerOptions() {
  SpdySessionOptions options;
  options.server = true;
  return options;
}

TEST_CASE("SPDY streams carry data both ways with half-close") {
  SessionPair pair(ClientOptions(), ServerOptions());
  auto opened = pair.client.OpenStream({{"streamtype", "data"}, {"port", "80"}});
  REQUIRE(opened.ok());
  std::shared_ptr<SpdyStream> client_stream = *opened;
  CHECK(client_stream->id() == 1);

  std::shared_ptr<SpdyStream> server_stream = pair.server.AcceptStream();
  REQUIRE(server_stream);
  CHECK(server_stream->id() == 1);
  CHECK(server_stream->Header("streamType") == "data");
  CHECK(server_stream->Header("port") == "80");
  REQUIRE(server_stream->Reply());
  REQUIRE(client_stream->WaitForReply(std::chrono::seconds(5)).ok());

  REQUIRE(client_stream->Write("GET / HTTP/1.0\r\n\r\n"));
  REQUIRE(client_stream->CloseWrite());
  CHECK(ReadAll(*server_stream) == "GET / HTTP/1.0\r\n\r\n");
  CHECK(server_stream->remote_closed());
  CHECK_FALSE(client_stream->Write("late"));  // this side already half-closed

  // The other direction still works after the client's FIN.
  std::string big(300 * 1024, 'z');
  bool wrote = false;  // Catch2's assertions are for the test's own thread only
  std::thread writer([&] { wrote = server_stream->Write(big) && server_stream->CloseWrite(); });
  CHECK(ReadAll(*client_stream) == big);
  writer.join();
  CHECK(wrote);

  // The next stream gets the next odd id; a server's own streams are even.
  auto second = pair.client.OpenStream({{"streamtype", "error"}});
  REQUIRE(second.ok());
  CHECK((*second)->id() == 3);
  auto from_server = pair.server.OpenStream({{"x", "1"}});
  REQUIRE(from_server.ok());
  CHECK((*from_server)->id() == 2);
  auto accepted = pair.client.AcceptStream(std::chrono::seconds(5));
  REQUIRE(accepted);
  CHECK(accepted->id() == 2);
}

TEST_CASE("a reset wakes the reader and refuses further writes") {
  SessionPair pair(ClientOptions(), ServerOptions());
  auto opened = pair.client.OpenStream({{"streamtype", "data"}});
  REQUIRE(opened.ok());
  std::shared_ptr<SpdyStream> server_stream = pair.server.AcceptStream();
  REQUIRE(server_stream);
  REQUIRE(server_stream->Reply());
  size_t read = 1;
  std::thread reader([&] {
    char buffer[16];
    read = server_stream->Read(buffer, sizeof(buffer));
  });
  (*opened)->Reset();
  reader.join();
  CHECK(read == 0);
  CHECK(server_stream->was_reset());
  CHECK_FALSE(server_stream->Write("x"));
  CHECK((*opened)->was_reset());
}

TEST_CASE("the end of the connection ends every stream and the accept queue") {
  SessionPair pair(ClientOptions(), ServerOptions());
  auto opened = pair.client.OpenStream({{"a", "b"}});
  REQUIRE(opened.ok());
  auto accepted = pair.server.AcceptStream();
  REQUIRE(accepted);
  pair.client.Close();
  pair.server.WaitUntilEnded();
  CHECK(pair.server.ended());
  char buffer[4];
  CHECK(accepted->Read(buffer, sizeof(buffer)) == 0);
  CHECK(pair.server.AcceptStream() == nullptr);
  CHECK_FALSE(pair.client.OpenStream({{"a", "b"}}).ok());
}

TEST_CASE("pings from the peer are echoed; SYN_STREAMs with the wrong parity are reset") {
  SocketPair sockets = MakeSocketPair();
  SpdySession server(*sockets.second, ServerOptions());
  server.Start();
  SpdyFramer framer;
  SpdyFrameParser parser;
  auto send = [&](const SpdyFrame& frame) {
    auto bytes = framer.Encode(frame);
    REQUIRE(bytes.ok());
    REQUIRE(sockets.first->Write(*bytes));
  };
  auto receive = [&]() {
    char buffer[4096];
    while (true) {
      auto frame = parser.Next();
      REQUIRE(frame.ok());
      if (frame->has_value()) return **frame;
      size_t n = sockets.first->Read(buffer, sizeof(buffer));
      REQUIRE(n > 0);
      parser.Append(std::string_view(buffer, n));
    }
  };
  send(SpdyFramer::Ping(7));
  SpdyFrame pong = receive();
  CHECK(pong.type == SpdyFrameType::kPing);
  CHECK(pong.ping_id == 7);
  send(SpdyFramer::SynStream(2, {{"a", "b"}}, false));  // even: a server's id
  SpdyFrame rst = receive();
  CHECK(rst.type == SpdyFrameType::kRstStream);
  CHECK(rst.stream_id == 2);
  CHECK(rst.status == kSpdyProtocolError);
  // A stream with FIN on its SYN_STREAM reads as already closed; the data of a real one
  // arrives. Consuming it sends no WINDOW_UPDATE to a peer that has shown no flow control
  // (the next frame is the answer to a ping)...
  send(SpdyFramer::SynStream(1, {{"a", "b"}}, true));
  auto closed = server.AcceptStream();
  REQUIRE(closed);
  CHECK(closed->remote_closed());
  send(SpdyFramer::SynStream(3, {{"a", "b"}}, false));
  auto open = server.AcceptStream();
  REQUIRE(open);
  char buffer[40000];
  auto consume = [&] {
    send(SpdyFramer::Data(3, std::string(40000, 'd'), false));
    size_t got = 0;
    while (got < sizeof(buffer)) got += open->Read(buffer + got, sizeof(buffer) - got);
  };
  consume();
  send(SpdyFramer::Ping(9));
  CHECK(receive().type == SpdyFrameType::kPing);
  // ... but once it sent SETTINGS, half a window consumed brings WINDOW_UPDATEs (stream
  // and session).
  SpdyFrame settings;
  settings.type = SpdyFrameType::kSettings;
  settings.settings = {{0, kSpdySettingsInitialWindowSize, kSpdyInitialWindow}};
  send(settings);
  send(SpdyFramer::Ping(11));
  CHECK(receive().ping_id == 11);  // SETTINGS handled before what follows it
  consume();
  SpdyFrame first_update = receive();
  SpdyFrame second_update = receive();
  CHECK(first_update.type == SpdyFrameType::kWindowUpdate);
  CHECK(second_update.type == SpdyFrameType::kWindowUpdate);
  CHECK(first_update.stream_id + second_update.stream_id == 3);  // stream 3 and session 0
  CHECK(first_update.delta_window == 40000);
  server.Close();
}

TEST_CASE("with peer windows honoured, a large transfer waits for WINDOW_UPDATEs") {
  SpdySessionOptions client = ClientOptions();
  client.honor_peer_windows = true;
  SpdySessionOptions server = ServerOptions();
  server.window_updates = SpdySessionOptions::WindowUpdates::kAlways;
  SessionPair pair(client, server);
  auto opened = pair.client.OpenStream({{"streamtype", "data"}});
  REQUIRE(opened.ok());
  auto accepted = pair.server.AcceptStream();
  REQUIRE(accepted);
  REQUIRE(accepted->Reply());
  std::string big(1024 * 1024, 'w');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  bool wrote = false;
  std::thread writer([&] { wrote = (*opened)->Write(big) && (*opened)->CloseWrite(); });
  CHECK(ReadAll(*accepted) == big);
  writer.join();
  CHECK(wrote);
}

TEST_CASE("a small stream buffer stalls the reader instead of losing data") {
  SpdySessionOptions server = ServerOptions();
  server.max_stream_buffer = 1024;
  SessionPair pair(ClientOptions(), server);
  auto opened = pair.client.OpenStream({{"s", "1"}});
  REQUIRE(opened.ok());
  auto accepted = pair.server.AcceptStream();
  REQUIRE(accepted);
  std::string big(200 * 1024, 'q');
  bool wrote = false;
  std::thread writer([&] { wrote = (*opened)->Write(big) && (*opened)->CloseWrite(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the buffer fill
  CHECK(ReadAll(*accepted).size() == big.size());
  writer.join();
  CHECK(wrote);
}

}  // namespace
}  // namespace kite::streaming
