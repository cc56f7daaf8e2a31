// PodExpectations: the creates and deletes a controller has sent but not yet seen in its pod
// cache (Kubernetes' UIDTrackingControllerExpectations). A controller that acted on a key
// does not act on it again until the informer has shown it every pod it created and every
// deletion it asked for, so a stale cache cannot make it create or delete twice. A record
// older than the TTL (5 minutes, as Kubernetes) counts as satisfied, so a lost watch event
// cannot wedge a controller for good.
//
// Operation: before sending N creates, ExpectCreations(key, N); each pod add event calls
// CreationObserved(key); a create that failed (so will never be observed) calls
// CreationObserved too. Deletes likewise, by pod key, so an update showing the
// deletionTimestamp and the final delete event are counted once.
//
// Thread-safety: every method may be called from any thread (informer handlers and workers).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"

namespace kite::controllers {

class PodExpectations {
 public:
  // `clock` must outlive this object.
  explicit PodExpectations(const Clock* clock,
                           std::chrono::milliseconds ttl = std::chrono::minutes(5))
      : clock_(clock), ttl_(ttl) {}

  // Replaces the record of `key` (a controller's key).
  void ExpectCreations(const std::string& key, int count);
  void ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys);
  void CreationObserved(const std::string& key);
  void DeletionObserved(const std::string& key, const std::string& pod_key);
  // True when nothing is outstanding for `key`, it has no record, or the record expired.
  bool Satisfied(const std::string& key) const;
  // Forgets `key` (its controller is gone).
  void Delete(const std::string& key);

 private:
  struct Record {
    int adds = 0;
    std::set<std::string> deletes;  // pod keys not yet seen deleted
    int64_t set_at_ms = 0;
  };
  const Clock* clock_;
  const std::chrono::milliseconds ttl_;
  mutable Mutex mu_;
  std::map<std::string, Record> records_ GUARDED_BY(mu_);
};

}  // namespace kite::controllers
