#include "src/agent/server/channel_session.h"

#include <algorithm>

#include "src/base/base64.h"

namespace kite::agent::server {

bool SendOnChannel(streaming::WebSocketConnection& ws, bool base64, size_t channel, std::string_view data) {
  if (base64) {
    return ws.SendText(std::string(1, static_cast<char>('0' + channel)) + Base64Encode(data));
  }
  std::string message(1, static_cast<char>(channel));
  message.append(data);
  return ws.SendBinary(message);
}

std::string ReadToEnd(streaming::SpdyStream& stream, size_t limit) {
  std::string out;
  char buffer[8192];
  while (size_t n = stream.Read(buffer, sizeof(buffer))) {
    if (out.size() < limit) out.append(buffer, std::min(n, limit - out.size()));
  }
  return out;
}

void ClientInputEnd::Mark() {
  MutexLock lock(mu_);
  marked_ = true;
  changed_.NotifyAll();
}

bool ClientInputEnd::WaitFor(std::chrono::milliseconds grace) {
  MutexLock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!marked_) {
    auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    changed_.WaitFor(mu_, left);
  }
  return true;
}

}  // namespace kite::agent::server
