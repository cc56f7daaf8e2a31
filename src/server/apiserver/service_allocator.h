// Cluster IPs and node ports for Services, as Kubernetes' service storage allocates them:
// spec.clusterIP(s) from the service CIDR (unless "None", or type ExternalName), and a
// nodePort in 30000-32767 for every port of a NodePort or LoadBalancer Service. A value the
// user asks for is honoured if it is in range and free; otherwise the create fails with
// Kubernetes' causes ("provided IP is already allocated", "provided port is already
// allocated", "provided IP is not in the valid range").
//
// What is allocated is read from the stored Services on every call (so deleting a Service
// frees its addresses with nothing more to do), plus what this process handed out in the
// last minute and may not be stored yet (two concurrent creates never get the same IP).
//
// Thread-safety: every method may be called concurrently.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/validation/field_causes.h"
#include "src/store/kv_store.h"

namespace kite::apiserver {

struct ServiceAllocatorOptions {
  std::string service_cidr = "10.43.0.0/16";  // IPv4
  int node_port_min = 30000;
  int node_port_max = 32767;
};

class ServiceAllocator {
 public:
  // kInvalidArgument for a CIDR that is not IPv4 or leaves no room for services.
  static Result<std::unique_ptr<ServiceAllocator>> Create(ServiceAllocatorOptions options, store::KvStore* kv,
                                                          Clock* clock);

  // Fills in what `service` (a v1 Service about to be created, or updated when `old` is
  // given) needs. Returns the causes of a 422 when a requested value is unusable.
  std::vector<validation::StatusCause> Allocate(rapidjson::Document& service, const rapidjson::Value* old);

  // The first address of the range: the `kubernetes` Service's cluster IP.
  std::string FirstAddress() const;

 private:
  ServiceAllocator(ServiceAllocatorOptions options, store::KvStore* kv, Clock* clock, uint32_t base,
                   uint32_t size);
  // Cluster IPs and node ports of stored Services (other than `except_key`) and recent
  // reservations.
  void Used(const std::string& except_key, std::map<uint32_t, bool>* ips, std::map<int, bool>* ports)
      REQUIRES(mu_);

  const ServiceAllocatorOptions options_;
  store::KvStore* kv_;
  Clock* clock_;
  const uint32_t base_;  // network address, host order
  const uint32_t size_;  // addresses in the range
  Mutex mu_;
  std::map<uint32_t, int64_t> recent_ips_ GUARDED_BY(mu_);  // → reserved until (ms)
  std::map<int, int64_t> recent_ports_ GUARDED_BY(mu_);
  uint64_t rng_state_ GUARDED_BY(mu_);
};

}  // namespace kite::apiserver
