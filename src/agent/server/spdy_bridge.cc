#include "src/agent/server/spdy_bridge.h"

#include <memory>

#include "src/agent/server/thread_set.h"
#include "src/base/mutex.h"
#include "src/server/streaming/spdy_session.h"

namespace kite::agent::server {
namespace {

using streaming::SpdySession;
using streaming::SpdySessionOptions;
using streaming::SpdyStream;

// Copies `from` into `to` until `from` ends, then passes its end on: a reset as a reset, a
// half-close (or the end of its session) as a half-close. When `to` cannot take more,
// `from` is reset so its sender stops.
void Relay(SpdyStream& from, SpdyStream& to) {
  char buffer[32 * 1024];
  while (size_t n = from.Read(buffer, sizeof(buffer))) {
    if (!to.Write(std::string_view(buffer, n))) {
      from.Reset();
      if (to.was_reset()) return;
      to.Reset();
      return;
    }
  }
  if (from.was_reset()) {
    to.Reset();
  } else {
    (void)to.CloseWrite();
  }
}

}  // namespace

void BridgeSpdySessions(http::UpgradedConnection& client_connection,
                        http::UpgradedConnection& runtime_connection,
                        const SpdyBridgeOptions& options) {
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };
  SpdySessionOptions client_options;
  client_options.server = true;
  SpdySession client(client_connection, client_options);
  SpdySession runtime(runtime_connection, SpdySessionOptions{});
  client.Start();
  runtime.Start();

  ThreadSet threads;
  Mutex mu;
  CondVar relays_done;
  int downstream_relays = 0;  // runtime -> client relays running (guarded by mu)

  // The runtime ending its session ends the client's, after what it sent is relayed.
  std::thread watcher([&] {
    runtime.WaitUntilEnded();
    {
      MutexLock lock(mu);
      while (downstream_relays > 0) relays_done.Wait(mu);
    }
    client.Close();
  });

  while (std::shared_ptr<SpdyStream> stream = client.AcceptStream()) {
    threads.ReapFinished();
    Result<std::shared_ptr<SpdyStream>> peer = runtime.OpenStream(stream->headers());
    if (!peer.ok()) {
      log("cannot open a runtime stream: " + peer.status().message());
      stream->Reset(streaming::kSpdyRefusedStream);
      continue;
    }
    {
      MutexLock lock(mu);
      ++downstream_relays;
    }
    threads.Spawn([&, stream, peer = *peer] {
      Status replied = peer->WaitForReply(options.reply_timeout);
      if (replied.ok() && stream->Reply()) {
        threads.Spawn([stream, peer] { Relay(*stream, *peer); });
        Relay(*peer, *stream);
      } else {
        if (!replied.ok()) log("runtime stream: " + replied.message());
        stream->Reset(streaming::kSpdyRefusedStream);
        peer->Reset();
      }
      MutexLock lock(mu);
      --downstream_relays;
      relays_done.NotifyAll();
    });
  }
  // The client is gone (or was closed by the watcher): nothing more to relay.
  runtime.Close();
  watcher.join();
  threads.JoinAll();
  client.Close();
}

}  // namespace kite::agent::server
