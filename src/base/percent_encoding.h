// %XX decoding as URLs, query strings and gRPC status messages use it.
//
// Strict (PercentDecode): a malformed escape fails the whole text, as Go's url parsing
// rejects it. Lenient (PercentDecodeLenient): a malformed escape is kept as it is, as
// Go's url.ParseQuery-style form readers and gRPC's grpc-message decoding do.
// With plus_is_space, '+' decodes to a space (query strings and forms).
#pragma once

#include <string>
#include <string_view>

namespace kite {

// 0..15 for a hex digit (either case), -1 otherwise.
int HexDigitValue(char c);

bool PercentDecode(std::string_view in, bool plus_is_space, std::string& out);
std::string PercentDecodeLenient(std::string_view in, bool plus_is_space);

}  // namespace kite
