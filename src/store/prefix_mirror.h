// PrefixMirror: every key under one prefix, held in memory and brought up to date from a
// watch whenever it is read. For small collections read on hot paths — the LimitRanges and
// ResourceQuotas that admission reads for every new pod — where a store Range would cost a
// database read transaction each time, and nearly always find nothing.
//
// Freshness: a store queues a write's watch event before it acknowledges the write (a
// KvStore guarantee, kv_store.h), and every read first applies the events already queued.
// So a read sees every write that was acknowledged before the read began, as a Range would.
//
// Operation: the first read lists the prefix and starts the watch; later reads apply what
// the watch has queued. When the watch fails (it fell behind, or its start was compacted
// away) the next read lists again. No thread of its own: events wait in the watch until a
// read, so destroy the mirror before its store, like any watch.
//
// Thread-safety: every method may be called from any thread; reads are serialized.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/store/kv_store.h"

namespace kite::store {

class PrefixMirror {
 public:
  // `kv` must outlive the mirror.
  PrefixMirror(KvStore* kv, std::string prefix) : kv_(kv), prefix_(std::move(prefix)) {}
  PrefixMirror(const PrefixMirror&) = delete;
  PrefixMirror& operator=(const PrefixMirror&) = delete;

  // The current keys starting with `prefix`, which must start with the mirror's prefix, in
  // key order. Errors are the store's (listing or watching failed).
  Result<std::vector<KeyValue>> Range(std::string_view prefix) EXCLUDES(mu_);

 private:
  Status CatchUp() REQUIRES(mu_);
  Status Relist() REQUIRES(mu_);

  KvStore* const kv_;
  const std::string prefix_;
  Mutex mu_;
  std::unique_ptr<Watcher> watch_ GUARDED_BY(mu_);  // null until listed, and after a failure
  std::map<std::string, KeyValue, std::less<>> keys_ GUARDED_BY(mu_);
};

}  // namespace kite::store
