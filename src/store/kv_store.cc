#include "src/store/kv_store.h"

namespace kite::store {

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  // Increment the last byte that is not 0xff, dropping the 0xff bytes after it.
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last != 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return end;  // every key is >= prefix: no upper bound
}

RangeRequest RangeRequest::Prefix(std::string_view prefix, int64_t revision) {
  RangeRequest request;
  request.key = std::string(prefix);
  request.range_end = PrefixEnd(prefix);
  if (request.range_end.empty()) request.range_end = kNoRangeEnd;
  request.revision = revision;
  return request;
}

std::string RangeRequest::EffectiveEnd() const {
  if (range_end.empty()) return key + '\0';  // just `key`
  if (range_end == kNoRangeEnd) return "";
  return range_end;
}

RangeRequest RangeRequest::Key(std::string_view key) {
  RangeRequest request;
  request.key = std::string(key);
  return request;
}

}  // namespace kite::store
