#include "src/store/memory_store.h"

#include <algorithm>

#include "src/store/continue_token.h"
#include "src/store/store_errors.h"

namespace kite::store {

MemoryStore::MemoryStore(const StoreOptions& options)
    : options_(options),
      clock_(options.clock ? options.clock : SystemClock::Get()),
      hub_(this, options.watch_buffer_events) {}

MemoryStore::~MemoryStore() { hub_.Close(); }

const MemoryStore::Version* MemoryStore::Find(std::string_view key, int64_t revision) const {
  auto it = keys_.find(key);
  if (it == keys_.end()) return nullptr;
  const std::vector<Version>& versions = it->second;
  // The newest version at or below `revision`.
  auto after = std::upper_bound(
      versions.begin(), versions.end(), revision,
      [](int64_t rev, const Version& v) { return rev < v.kv.mod_revision; });
  if (after == versions.begin()) return nullptr;
  const Version& v = *(after - 1);
  return v.tombstone ? nullptr : &v;
}

EventPtr MemoryStore::Apply(Version version, const Version* previous) {
  auto event = std::make_shared<Event>();
  event->type = version.tombstone ? Event::Type::kDelete : Event::Type::kPut;
  if (previous) event->prev = previous->kv;
  event->kv = version.kv;
  if (version.tombstone && previous) event->kv.value = previous->kv.value;
  std::string key = version.kv.key;
  if (version.kv.expires_at_ms != 0) expiries_.emplace(version.kv.expires_at_ms, key);
  keys_[key].push_back(std::move(version));
  log_.push_back(event);
  return event;
}

Result<int64_t> MemoryStore::Create(std::string_view key, std::string_view value,
                                    WriteOptions options) {
  if (key.empty()) return EmptyKey();
  MutexLock lock(mu_);
  std::vector<EventPtr> events;
  ExpireLocked(events);
  Status status;
  if (Find(key, revision_)) {
    status = KeyExists(key);
  } else {
    int64_t rev = ++revision_;
    Version v{{std::string(key), std::string(value), rev, rev,
               options.ttl.count() > 0 ? clock_->NowMillis() + options.ttl.count() : 0},
              false};
    events.push_back(Apply(std::move(v), nullptr));
  }
  hub_.Publish(events);
  AutoCompact();
  if (!status.ok()) return status;
  return revision_;
}

Result<int64_t> MemoryStore::Update(std::string_view key, std::string_view value,
                                    int64_t expected_revision, WriteOptions options) {
  if (key.empty()) return EmptyKey();
  MutexLock lock(mu_);
  std::vector<EventPtr> events;
  ExpireLocked(events);
  Status status;
  const Version* current = Find(key, revision_);
  if (!current) {
    status = KeyNotFound(key);
  } else if (expected_revision != 0 && current->kv.mod_revision != expected_revision) {
    status = RevisionMismatch(key, current->kv.mod_revision, expected_revision);
  } else {
    int64_t rev = ++revision_;
    Version v{{std::string(key), std::string(value), current->kv.create_revision, rev,
               options.ttl.count() > 0 ? clock_->NowMillis() + options.ttl.count() : 0},
              false};
    Version previous = *current;  // Apply may reallocate the vector `current` points into
    events.push_back(Apply(std::move(v), &previous));
  }
  hub_.Publish(events);
  AutoCompact();
  if (!status.ok()) return status;
  return revision_;
}

Result<int64_t> MemoryStore::Delete(std::string_view key, int64_t expected_revision) {
  if (key.empty()) return EmptyKey();
  MutexLock lock(mu_);
  std::vector<EventPtr> events;
  ExpireLocked(events);
  Status status;
  const Version* current = Find(key, revision_);
  if (!current) {
    status = KeyNotFound(key);
  } else if (expected_revision != 0 && current->kv.mod_revision != expected_revision) {
    status = RevisionMismatch(key, current->kv.mod_revision, expected_revision);
  } else {
    int64_t rev = ++revision_;
    Version previous = *current;
    Version v{{std::string(key), "", previous.kv.create_revision, rev, 0}, true};
    events.push_back(Apply(std::move(v), &previous));
  }
  hub_.Publish(events);
  AutoCompact();
  if (!status.ok()) return status;
  return revision_;
}

void MemoryStore::ExpireLocked(std::vector<EventPtr>& events) {
  int64_t now = clock_->NowMillis();
  while (!expiries_.empty() && expiries_.begin()->first <= now) {
    auto [expires_at, key] = *expiries_.begin();
    expiries_.erase(expiries_.begin());
    auto it = keys_.find(key);
    if (it == keys_.end() || it->second.empty()) continue;
    const Version& last = it->second.back();
    if (last.tombstone || last.kv.expires_at_ms != expires_at) continue;  // rewritten since
    Version previous = last;
    int64_t rev = ++revision_;
    Version v{{key, "", previous.kv.create_revision, rev, 0}, true};
    events.push_back(Apply(std::move(v), &previous));
  }
}

Status MemoryStore::ExpireKeys() {
  MutexLock lock(mu_);
  std::vector<EventPtr> events;
  ExpireLocked(events);
  hub_.Publish(events);
  AutoCompact();
  return Status::Ok();
}

Result<KeyValue> MemoryStore::Get(std::string_view key, int64_t revision) {
  if (key.empty()) return EmptyKey();
  MutexLock lock(mu_);
  if (revision == 0) revision = revision_;
  KITE_RETURN_IF_ERROR(CheckReadRevision(revision, revision_, compacted_));
  const Version* v = Find(key, revision);
  if (!v) return KeyNotFound(key);
  return v->kv;
}

Result<RangeResult> MemoryStore::Range(const RangeRequest& request) {
  std::string start = request.key;
  int64_t revision = request.revision;
  if (!request.continue_token.empty()) {
    Result<ContinuePoint> point = DecodeContinueToken(request.continue_token);
    if (!point.ok()) return point.status();
    start = point->next_key;
    revision = point->revision;
  }
  std::string end = request.EffectiveEnd();
  if (request.limit < 0) return InvalidArgumentError("limit must not be negative");

  MutexLock lock(mu_);
  if (revision == 0) revision = revision_;
  KITE_RETURN_IF_ERROR(CheckReadRevision(revision, revision_, compacted_));
  RangeResult result;
  result.revision = revision;
  auto it = keys_.lower_bound(start);
  for (; it != keys_.end() && (end.empty() || it->first < end); ++it) {
    const Version* v = Find(it->first, revision);
    if (!v) continue;
    ++result.count;
    if (request.count_only) continue;
    if (request.limit > 0 && static_cast<int64_t>(result.kvs.size()) == request.limit) {
      if (result.continue_token.empty()) {
        result.continue_token =
            EncodeContinueToken({revision, KeySuccessor(result.kvs.back().key)});
      }
      continue;
    }
    result.kvs.push_back(v->kv);
  }
  return result;
}

Result<std::unique_ptr<Watcher>> MemoryStore::Watch(std::string_view prefix,
                                                    int64_t after_revision) {
  MutexLock lock(mu_);
  if (after_revision < compacted_) return RevisionCompacted(after_revision, compacted_);
  // Holding mu_ keeps Publish out, so the hub's published revision is ours.
  return hub_.Add(std::string(prefix), after_revision);
}

Result<std::vector<EventPtr>> MemoryStore::ReadHistory(std::string_view prefix, int64_t after,
                                                       int64_t up_to, size_t limit) {
  MutexLock lock(mu_);
  if (after < compacted_) return RevisionCompacted(after, compacted_);
  auto it = std::upper_bound(log_.begin(), log_.end(), after,
                             [](int64_t rev, const EventPtr& e) { return rev < e->revision(); });
  std::vector<EventPtr> events;
  for (; it != log_.end() && (*it)->revision() <= up_to && events.size() < limit; ++it) {
    if ((*it)->kv.key.starts_with(prefix)) events.push_back(*it);
  }
  return events;
}

void MemoryStore::CompactLocked(int64_t revision) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    std::vector<Version>& versions = it->second;
    // Keep the newest version at or below `revision` (unless a tombstone) and all above.
    auto after = std::upper_bound(
        versions.begin(), versions.end(), revision,
        [](int64_t rev, const Version& v) { return rev < v.kv.mod_revision; });
    if (after != versions.begin()) {
      auto keep = after - 1;
      if (keep->tombstone) keep = after;
      versions.erase(versions.begin(), keep);
    }
    it = versions.empty() ? keys_.erase(it) : std::next(it);
  }
  auto first_kept = std::upper_bound(
      log_.begin(), log_.end(), revision,
      [](int64_t rev, const EventPtr& e) { return rev < e->revision(); });
  log_.erase(log_.begin(), first_kept);
  compacted_ = revision;
}

Status MemoryStore::Compact(int64_t revision) {
  MutexLock lock(mu_);
  if (revision > revision_) return FutureRevision(revision, revision_);
  if (revision <= compacted_) return RevisionCompacted(revision, compacted_);
  CompactLocked(revision);
  return Status::Ok();
}

void MemoryStore::AutoCompact() {
  int64_t window = options_.history_window_revisions;
  // Compact in steps of a tenth of the window so the cost is amortized.
  if (window > 0 && revision_ - compacted_ > window + window / 10) {
    CompactLocked(revision_ - window);
  }
}

int64_t MemoryStore::CurrentRevision() {
  MutexLock lock(mu_);
  return revision_;
}

int64_t MemoryStore::CompactedRevision() {
  MutexLock lock(mu_);
  return compacted_;
}

}  // namespace kite::store
