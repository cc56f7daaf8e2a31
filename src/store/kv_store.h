// KvStore: the versioned key-value store that stands in for etcd.
//
// Semantics (what Kubernetes needs from etcd):
// - One revision counter for the whole store. Every successful write gets the next
//   revision; failed writes take none. A key's mod_revision is the revision of its last
//   write, create_revision that of the write that created it.
// - Create fails with kAlreadyExists if the key exists. Update and Delete fail with
//   kNotFound if it does not, and with kConflict when `expected_revision` is non-zero and
//   differs from the key's mod_revision.
// - Range reads a key range at the current revision or at a past one, in key order, with a
//   limit and an opaque continue token that keeps later pages at the first page's revision.
// - Watch delivers every change to keys under a prefix after a revision, in revision order,
//   with no gap and no duplicate. A write's event is queued to the watchers that exist
//   before the write returns, so a watcher read after it sees it (PrefixMirror relies on
//   this).
// - Compact(rev) forgets history at and below `rev`: reads at revisions below it and
//   watches from below it fail with kCompacted. Backends also compact by themselves to keep
//   a configured history window.
// - A key written with a TTL is deleted (a normal delete, with a revision and a watch event)
//   once the TTL has passed.
//
// Thread-safety: every method may be called from any thread concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/status.h"

namespace kite::store {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  // When the key expires, in Clock milliseconds; 0 = never.
  int64_t expires_at_ms = 0;

  bool operator==(const KeyValue&) const = default;
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  // For kPut: the new state. For kDelete: key, mod_revision = the delete's revision, and the
  // value the key had just before (what Kubernetes reports as the deleted object).
  KeyValue kv;
  // The state before this change, when there was one and it is still in history.
  std::optional<KeyValue> prev;

  int64_t revision() const { return kv.mod_revision; }
};

// Events are immutable once published and shared by every watcher that sees them.
using EventPtr = std::shared_ptr<const Event>;

struct WriteOptions {
  // Delete the key this long after the write; zero = never.
  std::chrono::milliseconds ttl{0};
};

struct RangeRequest {
  static inline const std::string kNoRangeEnd = std::string(1, '\0');
  // Every key starting with `prefix`, at `revision` (0 = current).
  static RangeRequest Prefix(std::string_view prefix, int64_t revision = 0);
  // The single key `key`.
  static RangeRequest Key(std::string_view key);

  // Keys in [key, range_end). As in etcd, an empty range_end means the single key `key`,
  // and kNoRangeEnd ("\0") means every key from `key` on.
  std::string key;
  std::string range_end;
  // 0 = the current revision. Ignored when continue_token is set.
  int64_t revision = 0;
  // At most this many keys; 0 = no limit.
  int64_t limit = 0;
  // From a previous RangeResult; resumes after its last key, at its revision.
  std::string continue_token;
  // Fill only `count` and `revision`.
  bool count_only = false;

  // The exclusive end key the request means; "" = unbounded.
  std::string EffectiveEnd() const;
};

struct RangeResult {
  std::vector<KeyValue> kvs;
  // The revision the read was served at.
  int64_t revision = 0;
  // Keys in the requested range at that revision from the first key of this page on,
  // including the ones returned (as etcd counts; remaining = count - kvs.size()).
  int64_t count = 0;
  // Non-empty when more keys remain; pass it back in RangeRequest::continue_token.
  std::string continue_token;
};

// One watch. Owned by the caller; destroying it unregisters it.
//
// Events are buffered per watcher up to a bound (StoreOptions::watch_buffer_events). A
// watcher that falls further behind is cut off: Next() then returns kResourceExhausted and
// the caller must list again and watch from the listed revision.
class Watcher {
 public:
  virtual ~Watcher() = default;

  // Waits up to `timeout` for events and returns those ready, in revision order (empty on
  // timeout). Returns an error once the watch is dead: kCompacted when its start revision
  // was compacted away, kResourceExhausted when it fell behind, kUnavailable when the store
  // closed. Call from one thread at a time.
  virtual Result<std::vector<EventPtr>> Next(std::chrono::milliseconds timeout) = 0;

  // Registers a callback run whenever events or an error become ready, so an event loop
  // can wait without a thread. It runs on the writer's thread while internal locks are
  // held: it must be quick and must not call into the store or this watcher (post work to
  // an executor instead). Set it before the first Next().
  virtual void SetReadyCallback(std::function<void()> callback) = 0;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // Returns the new key's revision.
  virtual Result<int64_t> Create(std::string_view key, std::string_view value,
                                 WriteOptions options = {}) = 0;
  // Returns the revision of the update. expected_revision 0 = unconditional.
  virtual Result<int64_t> Update(std::string_view key, std::string_view value,
                                 int64_t expected_revision, WriteOptions options = {}) = 0;
  // Returns the revision of the delete. expected_revision 0 = unconditional.
  virtual Result<int64_t> Delete(std::string_view key, int64_t expected_revision = 0) = 0;

  // The key at `revision` (0 = current).
  virtual Result<KeyValue> Get(std::string_view key, int64_t revision = 0) = 0;
  virtual Result<RangeResult> Range(const RangeRequest& request) = 0;

  // Changes to keys starting with `prefix` with revision > `after_revision`.
  // Fails with kCompacted when after_revision < CompactedRevision().
  virtual Result<std::unique_ptr<Watcher>> Watch(std::string_view prefix,
                                                 int64_t after_revision) = 0;

  // Forgets history up to and including `revision`; the latest value of each live key is
  // kept. Fails with kCompacted if already compacted that far, kInvalidArgument if
  // `revision` is in the future.
  virtual Status Compact(int64_t revision) = 0;

  virtual int64_t CurrentRevision() = 0;
  virtual int64_t CompactedRevision() = 0;

  // Deletes every key whose TTL has passed now. Backends run this on their own schedule;
  // exposed so tests with a fake clock need not wait for it.
  virtual Status ExpireKeys() = 0;
};

// The smallest key greater than every key starting with `prefix` ("" = no upper bound).
std::string PrefixEnd(std::string_view prefix);

}  // namespace kite::store
