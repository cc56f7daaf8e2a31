#include "src/server/streaming/spdy_session.h"

#include <algorithm>
#include <cstring>

namespace kite::streaming {
namespace {

constexpr size_t kMaxDataFrame = 32 * 1024;
// Acknowledge consumed bytes once half a window has been read.
constexpr uint32_t kUpdateThreshold = kSpdyInitialWindow / 2;

}  // namespace

// ---------------------------------------------------------------------------------------
// SpdyStream

SpdyStream::SpdyStream(SpdySession* session, uint32_t id, SpdyHeaders headers, bool local,
                       int64_t send_window)
    : session_(session), id_(id), headers_(std::move(headers)), local_(local) {
  MutexLock lock(mu_);
  send_window_ = send_window;
}

bool SpdyStream::Reply(const SpdyHeaders& headers) {
  {
    MutexLock lock(mu_);
    if (replied_ || reset_) return !reset_;
    replied_ = true;
  }
  return session_->SendFrame(SpdyFramer::SynReply(id_, headers, false));
}

Status SpdyStream::WaitForReply(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (!replied_) {
    if (reset_) return UnavailableError("the peer refused stream " + std::to_string(id_));
    if (session_ended_) return UnavailableError("the SPDY session ended");
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) {
      return UnavailableError("no reply to stream " + std::to_string(id_) + " in time");
    }
    cv_.WaitFor(mu_, left);
  }
  return Status();  // a reset after the reply is the stream's business, not the reply's
}

size_t SpdyStream::Read(char* buffer, size_t size) {
  if (size == 0) return 0;
  size_t n = 0;
  uint32_t update = 0;
  {
    MutexLock lock(mu_);
    while (buffer_offset_ >= buffer_.size() && !remote_fin_ && !reset_ && !session_ended_) {
      cv_.Wait(mu_);
    }
    if (buffer_offset_ >= buffer_.size()) return 0;
    n = std::min(size, buffer_.size() - buffer_offset_);
    std::memcpy(buffer, buffer_.data() + buffer_offset_, n);
    buffer_offset_ += n;
    if (buffer_offset_ == buffer_.size()) {
      buffer_.clear();
      buffer_offset_ = 0;
    }
    cv_.NotifyAll();  // the reader thread may be waiting for room
    unacknowledged_ += static_cast<uint32_t>(n);
    if (unacknowledged_ >= kUpdateThreshold && !remote_fin_ && !reset_) {
      update = unacknowledged_;
      unacknowledged_ = 0;
    }
  }
  if (update > 0 && session_->SendsWindowUpdates()) {
    (void)session_->SendFrame(SpdyFramer::WindowUpdate(id_, update));
  }
  session_->Consumed(n);
  return n;
}

bool SpdyStream::Write(std::string_view data) {
  const bool honor = session_->options_.honor_peer_windows;
  while (!data.empty()) {
    size_t chunk = std::min(data.size(), kMaxDataFrame);
    {
      MutexLock lock(mu_);
      while (honor && send_window_ <= 0 && !reset_ && !local_fin_ && !session_ended_) {
        cv_.Wait(mu_);
      }
      if (reset_ || local_fin_ || session_ended_) return false;
      if (honor) {
        chunk = std::min(chunk, static_cast<size_t>(send_window_));
        send_window_ -= static_cast<int64_t>(chunk);
      }
    }
    if (!session_->SendFrame(SpdyFramer::Data(id_, std::string(data.substr(0, chunk)), false))) {
      return false;
    }
    data.remove_prefix(chunk);
  }
  return true;
}

bool SpdyStream::CloseWrite() {
  {
    MutexLock lock(mu_);
    if (local_fin_ || reset_) return true;
    if (session_ended_) return false;
    local_fin_ = true;
    cv_.NotifyAll();
  }
  bool sent = session_->SendFrame(SpdyFramer::Data(id_, "", true));
  session_->ForgetIfDone(*this);
  return sent;
}

void SpdyStream::Reset(uint32_t status) {
  bool send = false;
  {
    MutexLock lock(mu_);
    if (reset_) return;
    send = !(local_fin_ && remote_fin_) && !session_ended_;
    reset_ = true;
    buffer_.clear();
    buffer_offset_ = 0;
    cv_.NotifyAll();
  }
  if (send) (void)session_->SendFrame(SpdyFramer::RstStream(id_, status));
  session_->ForgetIfDone(*this);
}

void SpdyStream::DiscardIncoming() {
  MutexLock lock(mu_);
  discard_ = true;
  buffer_.clear();
  buffer_offset_ = 0;
  cv_.NotifyAll();
}

bool SpdyStream::was_reset() const {
  MutexLock lock(mu_);
  return reset_;
}

bool SpdyStream::remote_closed() const {
  MutexLock lock(mu_);
  return remote_fin_ || reset_ || session_ended_;
}

// ---------------------------------------------------------------------------------------
// SpdySession

SpdySession::SpdySession(http::UpgradedConnection& connection, SpdySessionOptions options)
    : connection_(connection), options_(options) {
  MutexLock lock(write_mu_);
  next_stream_id_ = options.server ? 2 : 1;
}

SpdySession::~SpdySession() {
  Close();
  if (reader_.joinable()) reader_.join();
}

void SpdySession::Start() {
  MutexLock lock(mu_);
  if (started_) return;
  started_ = true;
  reader_ = std::thread([this] { ReadLoop(); });
}

bool SpdySession::SendFrame(const SpdyFrame& frame) {
  MutexLock lock(write_mu_);
  Result<std::string> bytes = framer_.Encode(frame);
  if (!bytes.ok()) return false;
  return connection_.Write(*bytes);
}

Result<std::shared_ptr<SpdyStream>> SpdySession::OpenStream(SpdyHeaders headers, bool fin) {
  // Stream ids must reach the wire in increasing order: allocate and send under one lock.
  MutexLock write_lock(write_mu_);
  std::shared_ptr<SpdyStream> stream;
  {
    MutexLock lock(mu_);
    if (ended_ || peer_goaway_ || goaway_sent_) {
      return UnavailableError("the SPDY session is closing; no new streams");
    }
    if (next_stream_id_ > 0x7FFFFFFF) return UnavailableError("SPDY stream ids exhausted");
    uint32_t id = next_stream_id_;
    next_stream_id_ += 2;
    stream = std::shared_ptr<SpdyStream>(
        new SpdyStream(this, id, headers, /*local=*/true, initial_send_window_));
    streams_[id] = stream;
  }
  if (fin) {
    MutexLock lock(stream->mu_);
    stream->local_fin_ = true;
  }
  Result<std::string> bytes = framer_.Encode(SpdyFramer::SynStream(stream->id(), headers, fin));
  if (!bytes.ok()) return bytes.status();
  if (!connection_.Write(*bytes)) return UnavailableError("the SPDY connection is gone");
  return stream;
}

std::shared_ptr<SpdyStream> SpdySession::AcceptStream() {
  MutexLock lock(mu_);
  while (accept_queue_.empty() && !ended_) cv_.Wait(mu_);
  if (accept_queue_.empty()) return nullptr;
  std::shared_ptr<SpdyStream> stream = accept_queue_.front();
  accept_queue_.pop_front();
  return stream;
}

std::shared_ptr<SpdyStream> SpdySession::AcceptStream(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(mu_);
  while (accept_queue_.empty() && !ended_) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return nullptr;
    cv_.WaitFor(mu_, left);
  }
  if (accept_queue_.empty()) return nullptr;
  std::shared_ptr<SpdyStream> stream = accept_queue_.front();
  accept_queue_.pop_front();
  return stream;
}

void SpdySession::Close() {
  uint32_t last_good = 0;
  {
    MutexLock lock(mu_);
    last_good = last_peer_stream_id_;
  }
  {
    MutexLock lock(write_mu_);
    if (!goaway_sent_) {
      goaway_sent_ = true;
      Result<std::string> bytes = framer_.Encode(SpdyFramer::GoAway(last_good, 0));
      if (bytes.ok()) (void)connection_.Write(*bytes);
    }
  }
  connection_.Close();
  // The reader may be blocked waiting for room in a stream buffer rather than in Read.
  EndAll("");
}

void SpdySession::WaitUntilEnded() {
  MutexLock lock(mu_);
  if (!started_) return;
  while (!ended_) cv_.Wait(mu_);
}

bool SpdySession::ended() const {
  MutexLock lock(mu_);
  return ended_;
}

std::string SpdySession::end_reason() const {
  MutexLock lock(mu_);
  return end_reason_;
}

std::shared_ptr<SpdyStream> SpdySession::FindStream(uint32_t id) {
  MutexLock lock(mu_);
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second;
}

void SpdySession::ForgetIfDone(SpdyStream& stream) {
  bool done;
  {
    MutexLock lock(stream.mu_);
    done = stream.reset_ || (stream.local_fin_ && stream.remote_fin_);
  }
  if (!done) return;
  MutexLock lock(mu_);
  auto it = streams_.find(stream.id());
  if (it != streams_.end() && it->second.get() == &stream) {
    if (!stream.opened_locally() && open_peer_streams_ > 0) --open_peer_streams_;
    streams_.erase(it);
  }
}

bool SpdySession::SendsWindowUpdates() const {
  switch (options_.window_updates) {
    case SpdySessionOptions::WindowUpdates::kAlways:
      return true;
    case SpdySessionOptions::WindowUpdates::kNever:
      return false;
    case SpdySessionOptions::WindowUpdates::kAuto:
      break;
  }
  MutexLock lock(mu_);
  return peer_does_flow_control_;
}

void SpdySession::Consumed(size_t n) {
  if (!SendsWindowUpdates()) return;
  uint32_t update = 0;
  {
    MutexLock lock(mu_);
    if (ended_) return;
    session_unacknowledged_ += static_cast<uint32_t>(n);
    if (session_unacknowledged_ >= kUpdateThreshold) {
      update = session_unacknowledged_;
      session_unacknowledged_ = 0;
    }
  }
  if (update > 0) (void)SendFrame(SpdyFramer::WindowUpdate(0, update));
}

void SpdySession::EndAll(const std::string& reason) {
  std::vector<std::shared_ptr<SpdyStream>> streams;
  {
    MutexLock lock(mu_);
    if (!ended_ && end_reason_.empty()) end_reason_ = reason;
    ended_ = true;
    for (auto& [id, stream] : streams_) streams.push_back(stream);
    for (auto& stream : accept_queue_) streams.push_back(stream);
    cv_.NotifyAll();
  }
  for (auto& stream : streams) {
    MutexLock lock(stream->mu_);
    stream->session_ended_ = true;
    stream->cv_.NotifyAll();
  }
}

void SpdySession::ReadLoop() {
  std::string reason;
  char chunk[32 * 1024];
  while (reason.empty()) {
    size_t n = connection_.Read(chunk, sizeof(chunk));
    if (n == 0) break;
    parser_.Append(std::string_view(chunk, n));
    while (true) {
      Result<std::optional<SpdyFrame>> frame = parser_.Next();
      if (!frame.ok()) {
        reason = frame.status().message();
        {
          MutexLock lock(write_mu_);
          if (!goaway_sent_) {
            goaway_sent_ = true;
            Result<std::string> bytes = framer_.Encode(SpdyFramer::GoAway(0, 1));
            if (bytes.ok()) (void)connection_.Write(*bytes);
          }
        }
        connection_.Close();
        break;
      }
      if (!frame->has_value()) break;
      HandleFrame(**frame);
    }
  }
  EndAll(reason);
}

void SpdySession::HandleFrame(SpdyFrame& frame) {
  switch (frame.type) {
    case SpdyFrameType::kData:
      HandleData(frame);
      return;
    case SpdyFrameType::kSynStream:
      HandleSynStream(frame);
      return;
    case SpdyFrameType::kSynReply: {
      std::shared_ptr<SpdyStream> stream = FindStream(frame.stream_id);
      if (!stream) return;
      {
        MutexLock lock(stream->mu_);
        stream->replied_ = true;
        if (frame.fin()) stream->remote_fin_ = true;
        stream->cv_.NotifyAll();
      }
      if (frame.fin()) ForgetIfDone(*stream);
      return;
    }
    case SpdyFrameType::kHeaders: {
      if (!frame.fin()) return;  // extra headers carry nothing the streams here use
      std::shared_ptr<SpdyStream> stream = FindStream(frame.stream_id);
      if (!stream) return;
      {
        MutexLock lock(stream->mu_);
        stream->remote_fin_ = true;
        stream->cv_.NotifyAll();
      }
      ForgetIfDone(*stream);
      return;
    }
    case SpdyFrameType::kRstStream: {
      std::shared_ptr<SpdyStream> stream = FindStream(frame.stream_id);
      if (!stream) return;
      {
        // Data that arrived before the reset stays readable: Go's spdystream ends every
        // exec this way (data, then RST_STREAM on each stream, then close), so dropping it
        // would lose a command's last output and its Status.
        MutexLock lock(stream->mu_);
        stream->reset_ = true;
        stream->cv_.NotifyAll();
      }
      ForgetIfDone(*stream);
      return;
    }
    case SpdyFrameType::kSettings:
      {
        MutexLock lock(mu_);
        peer_does_flow_control_ = true;
      }
      for (const SpdySetting& setting : frame.settings) {
        if (setting.id != kSpdySettingsInitialWindowSize) continue;
        std::vector<std::shared_ptr<SpdyStream>> streams;
        int64_t delta;
        {
          MutexLock lock(mu_);
          delta = int64_t{setting.value} - initial_send_window_;
          initial_send_window_ = setting.value;
          for (auto& [id, stream] : streams_) streams.push_back(stream);
        }
        for (auto& stream : streams) {
          MutexLock lock(stream->mu_);
          stream->send_window_ += delta;
          stream->cv_.NotifyAll();
        }
      }
      return;
    case SpdyFrameType::kPing: {
      // Ids of our own pings have our parity (client odd, server even); echo the peer's.
      bool ours = (frame.ping_id % 2 == 1) == !options_.server;
      if (!ours) (void)SendFrame(SpdyFramer::Ping(frame.ping_id));
      return;
    }
    case SpdyFrameType::kGoAway: {
      MutexLock lock(mu_);
      peer_goaway_ = true;
      return;
    }
    case SpdyFrameType::kWindowUpdate: {
      {
        MutexLock lock(mu_);
        peer_does_flow_control_ = true;
      }
      if (frame.stream_id == 0) return;  // session window: not honoured (see header)
      std::shared_ptr<SpdyStream> stream = FindStream(frame.stream_id);
      if (!stream) return;
      MutexLock lock(stream->mu_);
      stream->send_window_ += frame.delta_window;
      stream->cv_.NotifyAll();
      return;
    }
    case SpdyFrameType::kUnknown:
      return;
  }
}

void SpdySession::HandleSynStream(SpdyFrame& frame) {
  uint32_t id = frame.stream_id;
  bool peer_parity = options_.server ? (id % 2 == 1) : (id % 2 == 0);
  uint32_t refuse = 0;
  std::shared_ptr<SpdyStream> stream;
  {
    MutexLock lock(mu_);
    if (id == 0 || !peer_parity || id <= last_peer_stream_id_) {
      refuse = kSpdyProtocolError;
    } else if (ended_ || open_peer_streams_ >= options_.max_peer_streams) {
      last_peer_stream_id_ = id;
      refuse = kSpdyRefusedStream;
    } else {
      last_peer_stream_id_ = id;
      stream = std::shared_ptr<SpdyStream>(
          new SpdyStream(this, id, std::move(frame.headers), /*local=*/false,
                         initial_send_window_));
      streams_[id] = stream;
      ++open_peer_streams_;
    }
  }
  if (refuse != 0) {
    (void)SendFrame(SpdyFramer::RstStream(id, refuse));
    return;
  }
  if (frame.fin() || (frame.flags & kSpdyFlagUnidirectional) != 0) {
    MutexLock lock(stream->mu_);
    if (frame.fin()) stream->remote_fin_ = true;
    if ((frame.flags & kSpdyFlagUnidirectional) != 0) stream->local_fin_ = true;
  }
  MutexLock lock(mu_);
  accept_queue_.push_back(stream);
  cv_.NotifyAll();
}

void SpdySession::HandleData(SpdyFrame& frame) {
  std::shared_ptr<SpdyStream> stream = FindStream(frame.stream_id);
  if (!stream) return;  // already gone (reset or closed): drop, as spdystream does
  {
    MutexLock lock(stream->mu_);
    if (!frame.data.empty()) {
      while (!stream->reset_ && !stream->discard_ && !stream->session_ended_ &&
             stream->buffer_.size() - stream->buffer_offset_ >= options_.max_stream_buffer) {
        stream->cv_.Wait(stream->mu_);
      }
      if (!stream->reset_ && !stream->discard_ && !stream->session_ended_ &&
          !stream->remote_fin_) {
        stream->buffer_ += frame.data;
      }
    }
    if (frame.fin()) stream->remote_fin_ = true;
    stream->cv_.NotifyAll();
  }
  if (frame.fin()) ForgetIfDone(*stream);
}

}  // namespace kite::streaming
