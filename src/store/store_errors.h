// Error messages shared by the backends, so both say the same thing for the same mistake.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "src/base/status.h"

namespace kite::store {

inline std::string Quote(std::string_view key) { return "\"" + std::string(key) + "\""; }

inline Status KeyExists(std::string_view key) {
  return AlreadyExistsError("key " + Quote(key) + " already exists");
}
inline Status KeyNotFound(std::string_view key) {
  return NotFoundError("key " + Quote(key) + " not found");
}
inline Status RevisionMismatch(std::string_view key, int64_t actual, int64_t expected) {
  return ConflictError("key " + Quote(key) + " is at revision " + std::to_string(actual) +
                       ", expected " + std::to_string(expected));
}
inline Status RevisionCompacted(int64_t revision, int64_t compacted) {
  return CompactedError("revision " + std::to_string(revision) +
                        " has been compacted (history starts after revision " +
                        std::to_string(compacted) + ")");
}
inline Status FutureRevision(int64_t revision, int64_t current) {
  return InvalidArgumentError("revision " + std::to_string(revision) +
                              " is in the future (current revision is " +
                              std::to_string(current) + ")");
}
inline Status EmptyKey() { return InvalidArgumentError("key must not be empty"); }

// Checks a read revision against the store's current and compacted revisions.
inline Status CheckReadRevision(int64_t revision, int64_t current, int64_t compacted) {
  if (revision > current) return FutureRevision(revision, current);
  if (revision < compacted) return RevisionCompacted(revision, compacted);
  return Status::Ok();
}

}  // namespace kite::store
