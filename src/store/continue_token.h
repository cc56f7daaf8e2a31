// The opaque continue token of a paged Range: the revision of the first page and the key
// the next page starts at. Both backends use it, so a token is portable between them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::store {

struct ContinuePoint {
  int64_t revision = 0;
  std::string next_key;
};

std::string EncodeContinueToken(const ContinuePoint& point);
// kInvalidArgument for anything EncodeContinueToken did not produce.
Result<ContinuePoint> DecodeContinueToken(std::string_view token);

// The smallest key after `key` in byte order.
inline std::string KeySuccessor(std::string_view key) { return std::string(key) + '\0'; }

}  // namespace kite::store
