// A port-forward client over WebSocket channels, as the official Python client speaks it
// (kubernetes.stream.portforward): channel 2*i is port i's data, 2*i+1 its error; the
// first message on every channel is the port (uint16 little-endian), sent by the server.
// Single-threaded: reads and writes happen on the calling thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "src/server/http/http_types.h"

namespace kite::agent::server::testing {

struct ChannelForwardResult {
  std::vector<int> channels_seen;     // channel of every message, in order
  std::vector<std::string> prefixes;  // the first message's payload, per channel
  std::vector<std::string> data;      // what came on each port's data channel after it
  std::vector<std::string> errors;    // what came on each port's error channel after it
  bool closed_normally = false;       // the server's close frame carried 1000
};

// Speaks the client side on an upgraded connection (`subprotocol` "v4.channel.k8s.io",
// "v4.base64.channel.k8s.io" or "" for binary): once port i's data channel has shown its
// prefix, sends `requests[i]` on it (when given and not empty); reads until the server
// closes. A message on a channel above 2*ports-1 or an empty binary message fails the test.
ChannelForwardResult SpeakChannelPortForward(http::UpgradedConnection& connection,
                                             const std::string& subprotocol, size_t ports,
                                             const std::vector<std::string>& requests);

// The same against the session of a handler's UpgradeResponse, run on one end of a
// socketpair.
ChannelForwardResult RunChannelPortForward(http::UpgradeResponse& upgrade,
                                           const std::string& subprotocol, size_t ports,
                                           const std::vector<std::string>& requests);

// The two bytes of a port prefix.
std::string PortPrefix(int port);

}  // namespace kite::agent::server::testing
