#include "src/agent/server/remote_command.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <memory>
#include <optional>
#include <thread>

#include "src/agent/server/channel_session.h"
#include "src/base/base64.h"
#include "src/server/streaming/spdy_session.h"
#include "src/server/streaming/websocket.h"

namespace kite::agent::server {
namespace {

using streaming::SpdySession;
using streaming::SpdyStream;
using streaming::WebSocketConnection;
using streaming::WebSocketOpcode;

// The runtime-side streams of one session; null when not requested.
struct RuntimeStreams {
  std::shared_ptr<SpdyStream> error, stdin_stream, stdout_stream, stderr_stream, resize;
};

Result<RuntimeStreams> OpenStreams(SpdySession& spdy, const RemoteCommandOptions& command,
                                   std::chrono::milliseconds reply_timeout) {
  RuntimeStreams streams;
  auto open = [&](const char* type, std::shared_ptr<SpdyStream>& slot) -> Status {
    Result<std::shared_ptr<SpdyStream>> stream = spdy.OpenStream({{"streamtype", type}});
    if (!stream.ok()) return stream.status();
    slot = *stream;
    return Status();
  };
  // kubectl's order: error, stdin, stdout, stderr, resize.
  KITE_RETURN_IF_ERROR(open("error", streams.error));
  if (command.stdin_open) KITE_RETURN_IF_ERROR(open("stdin", streams.stdin_stream));
  if (command.stdout_open) KITE_RETURN_IF_ERROR(open("stdout", streams.stdout_stream));
  if (command.stderr_open && !command.tty) {
    KITE_RETURN_IF_ERROR(open("stderr", streams.stderr_stream));
  }
  if (command.tty) KITE_RETURN_IF_ERROR(open("resize", streams.resize));
  for (auto* stream : {&streams.error, &streams.stdin_stream, &streams.stdout_stream,
                       &streams.stderr_stream, &streams.resize}) {
    if (*stream) KITE_RETURN_IF_ERROR((*stream)->WaitForReply(reply_timeout));
  }
  // Nothing is read from the runtime's stdin and resize streams.
  if (streams.stdin_stream) streams.stdin_stream->DiscardIncoming();
  if (streams.resize) streams.resize->DiscardIncoming();
  return streams;
}

}  // namespace

std::string ChooseRemoteCommandSubprotocol(const std::vector<std::string>& offered) {
  for (const char* wanted : {kV5ChannelProtocol, kV4ChannelProtocol, kV4Base64ChannelProtocol}) {
    for (const std::string& protocol : offered) {
      if (protocol == wanted) return protocol;
    }
  }
  return "";
}

std::string FailureStatusJson(std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("status");
  w.String("Failure");
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.Key("reason");
  w.String("InternalError");
  w.Key("details");
  w.StartObject();
  w.Key("causes");
  w.StartArray();
  w.StartObject();
  w.Key("message");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  w.EndArray();
  w.EndObject();
  w.Key("code");
  w.Int(500);
  w.EndObject();
  return buffer.GetString();
}

void RunWebSocketRemoteCommand(http::UpgradedConnection& client, std::string_view subprotocol,
                               http::UpgradedConnection& runtime,
                               const RemoteCommandOptions& command,
                               const RemoteCommandSessionOptions& options) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  const bool v5 = subprotocol == kV5ChannelProtocol;
  const bool base64 = subprotocol == kV4Base64ChannelProtocol;
  WebSocketConnection ws(client, WebSocketConnection::Role::kServer);
  auto send = [&](uint8_t channel, std::string_view data) { return SendOnChannel(ws, base64, channel, data); };

  SpdySession spdy(runtime, streaming::SpdySessionOptions{});
  spdy.Start();
  Result<RuntimeStreams> opened = OpenStreams(spdy, command, options.reply_timeout);
  if (!opened.ok()) {
    log("exec/attach: runtime streams: " + opened.status().message());
    (void)send(kErrorChannel,
               FailureStatusJson("error opening the container runtime's streams: " +
                                 opened.status().message()));
    (void)ws.SendClose(streaming::kWsCloseNormal);
    spdy.Close();
    return;
  }
  RuntimeStreams streams = std::move(*opened);

  // Tell the client the session is up: an empty message on the lowest channel it reads.
  (void)send(command.stdout_open ? kStdoutChannel
             : (command.stderr_open && !command.tty) ? kStderrChannel
                                                      : kErrorChannel,
             "");

  ClientInputEnd input_end;

  // Output, then the final Status, then the close frame.
  std::thread finisher([&] {
    auto pump = [&](std::shared_ptr<SpdyStream> from, uint8_t channel) {
      char buffer[32 * 1024];
      while (size_t n = from->Read(buffer, sizeof(buffer))) {
        if (!send(channel, std::string_view(buffer, n))) {
          from->Reset();
          return;
        }
      }
    };
    std::thread out, err;
    if (streams.stdout_stream) out = std::thread(pump, streams.stdout_stream, kStdoutChannel);
    if (streams.stderr_stream) err = std::thread(pump, streams.stderr_stream, kStderrChannel);
    std::string status = ReadToEnd(*streams.error, 64 * 1024);
    if (out.joinable()) out.join();
    if (err.joinable()) err.join();
    if (status.empty()) {
      status = FailureStatusJson("the container runtime ended the session without a status" +
                                 (spdy.end_reason().empty() ? "" : ": " + spdy.end_reason()));
    }
    (void)send(kErrorChannel, status);
    (void)ws.SendClose(streaming::kWsCloseNormal);
    // The client did not answer our close: stop waiting for it.
    if (!input_end.WaitFor(options.close_grace)) client.Close();
  });

  // Input: stdin, resize and (v5) close signals.
  while (true) {
    Result<streaming::WebSocketMessage> message = ws.Read();
    if (!message.ok()) break;
    std::string_view data = message->data;
    if (data.empty()) continue;
    uint8_t channel = static_cast<uint8_t>(data[0]);
    std::string payload;
    if (message->type == WebSocketOpcode::kText) {
      if (!base64 || channel < '0' || channel > '9') continue;
      channel = static_cast<uint8_t>(channel - '0');
      std::optional<std::string> decoded = Base64Decode(data.substr(1));
      if (!decoded) continue;  // kubelet's server skips undecodable frames too
      payload = std::move(*decoded);
    } else {
      payload.assign(data.substr(1));
    }
    if (v5 && channel == kCloseChannel) {
      if (payload.size() == 1 && static_cast<uint8_t>(payload[0]) == kStdinChannel &&
          streams.stdin_stream) {
        (void)streams.stdin_stream->CloseWrite();
      }
      continue;
    }
    if (payload.empty()) continue;  // clients may open a channel with an empty message
    if (channel == kStdinChannel && streams.stdin_stream) {
      (void)streams.stdin_stream->Write(payload);
    } else if (channel == kResizeChannel && streams.resize) {
      (void)streams.resize->Write(payload);
    }
  }
  input_end.Mark();
  // The client is gone or has closed: end the runtime's side (if the command still runs,
  // the runtime sees its streams end, as when kubectl is interrupted).
  spdy.Close();
  finisher.join();
}

}  // namespace kite::agent::server
