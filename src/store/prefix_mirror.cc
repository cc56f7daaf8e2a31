#include "src/store/prefix_mirror.h"

#include <chrono>

namespace kite::store {

Result<std::vector<KeyValue>> PrefixMirror::Range(std::string_view prefix) {
  if (!prefix.starts_with(prefix_)) {
    return InvalidArgumentError("\"" + std::string(prefix) + "\" is outside the mirrored prefix \"" + prefix_ + "\"");
  }
  MutexLock lock(mu_);
  KITE_RETURN_IF_ERROR(CatchUp());
  std::vector<KeyValue> out;
  for (auto it = keys_.lower_bound(prefix); it != keys_.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(it->second);
  }
  return out;
}

Status PrefixMirror::CatchUp() {
  if (!watch_) return Relist();
  for (;;) {
    Result<std::vector<EventPtr>> events = watch_->Next(std::chrono::milliseconds(0));
    if (!events.ok()) return Relist();  // cut off or compacted away: start over
    if (events->empty()) return Status::Ok();
    for (const EventPtr& e : *events) {
      if (e->type == Event::Type::kPut) {
        keys_.insert_or_assign(e->kv.key, e->kv);
      } else {
        keys_.erase(e->kv.key);
      }
    }
  }
}

Status PrefixMirror::Relist() {
  watch_.reset();
  keys_.clear();
  Result<RangeResult> listed = kv_->Range(RangeRequest::Prefix(prefix_));
  if (!listed.ok()) return listed.status();
  Result<std::unique_ptr<Watcher>> watch = kv_->Watch(prefix_, listed->revision);
  if (!watch.ok()) return watch.status();
  for (KeyValue& kv : listed->kvs) {
    std::string key = kv.key;
    keys_.emplace(std::move(key), std::move(kv));
  }
  watch_ = std::move(watch).value();
  return Status::Ok();
}

}  // namespace kite::store
