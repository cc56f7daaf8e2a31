// One informer per resource, shared by every controller that reads it (so each resource is
// listed and watched once, and cached once).
//
// Thread-safety: For may be called from any thread, but informers created after Start are
// started by For itself.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "src/base/mutex.h"
#include "src/server/client/informer.h"

namespace kite::client {

class InformerFactory {
 public:
  // `transport` must outlive the factory.
  explicit InformerFactory(ApiTransport* transport) : transport_(transport) {}
  ~InformerFactory() { StopAll(); }

  // The shared informer of `ref` (every namespace, no selector).
  Informer& For(const ResourceRef& ref);
  ResourceClient ClientFor(const ResourceRef& ref) const { return ResourceClient(transport_, ref); }

  void StartAll();
  // True when every informer synced within `timeout`.
  bool WaitForSync(std::chrono::milliseconds timeout);
  void StopAll();

 private:
  ApiTransport* transport_;
  Mutex mu_;
  bool started_ GUARDED_BY(mu_) = false;
  std::map<std::tuple<std::string, std::string, std::string>, std::unique_ptr<Informer>> informers_
      GUARDED_BY(mu_);
};

}  // namespace kite::client
