// The scraper: every `resolution` (15 s by default, metrics-server's metric resolution) it
// fetches /metrics/resource from each node's agent, decodes it (resource_metrics.h), joins the
// labels of the node and of the pods (from the informers) and hands the round to the
// MetricsStore, which computes rates from the last two rounds.
//
// Which nodes: those with Ready=True, except simulated ones (label kite.dev/simulated=true:
// `kite sim` nodes have no agent endpoint, their InternalIPs are made up and are never
// dialed); so simulated nodes and their pods have no metrics. Which pods: those the pod
// informer has (a deleted pod's containers are dropped).
//
// Operation: one thread waits out the resolution between rounds; a round fetches up to
// `parallelism` nodes at once (threads made for the round). A node that fails (unreachable,
// non-200, bad text, over max_body_bytes) is left out of that round and so loses its points
// (one line is logged when a node starts failing and one when it recovers).
// Limits: each fetch is bounded by the kubelet client's dial timeout for connecting and by
// `fetch_timeout` for the body; Stop waits for a round in progress, so at most that long.
//
// Thread-safety: Start and Stop from one thread; ScrapeOnce must not run concurrently with
// the scraper's own thread (tests call it without Start).
#pragma once

#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "src/base/clock.h"
#include "src/base/mutex.h"
#include "src/base/status.h"
#include "src/server/client/informer.h"
#include "src/server/metrics/metrics_store.h"

namespace kite::apiserver {
class KubeletClient;
}

namespace kite::metrics {

struct ScraperOptions {
  std::chrono::milliseconds resolution{15000};
  int parallelism = 4;
  const Clock* clock = nullptr;                 // null = the system clock
  std::function<void(const std::string&)> log;  // null = quiet
};

// Fetches the body of one node's /metrics/resource.
using NodeFetcher = std::function<Result<std::string>(const rapidjson::Value& node)>;

// The production fetcher: GET /metrics/resource through `kubelet` (not owned; must outlive
// every call) at the node's endpoint (NodeEndpointOf). kUnavailable when the agent cannot be
// reached or the body does not arrive within `fetch_timeout`; kInternal for a non-200 answer
// (with its status and text); kResourceExhausted past `max_body_bytes`.
NodeFetcher KubeletFetcher(apiserver::KubeletClient* kubelet,
                           std::chrono::milliseconds fetch_timeout = std::chrono::seconds(10),
                           size_t max_body_bytes = 16u << 20);

// True for a node the scraper asks: Ready=True and not labelled kite.dev/simulated=true.
bool ShouldScrape(const rapidjson::Value& node);

class Scraper {
 public:
  // `nodes` and `pods` are shared informers of core/v1 nodes and pods (started by their
  // owner); they and `store` are not owned and must outlive the scraper.
  Scraper(ScraperOptions options, NodeFetcher fetch, client::Informer* nodes,
          client::Informer* pods, MetricsStore* store);
  ~Scraper();  // Stop()s
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  void Start();
  // Ends the thread after any round in progress. Idempotent.
  void Stop();

  // One round now, on the calling thread.
  void ScrapeOnce();

 private:
  void Run();

  const ScraperOptions options_;
  const Clock* const clock_;
  const NodeFetcher fetch_;
  client::Informer* const nodes_;
  client::Informer* const pods_;
  MetricsStore* const store_;
  // Node → the error it last failed with ("" when it last succeeded); only ScrapeOnce's caller
  // touches it.
  std::map<std::string, std::string> failing_;

  Mutex mu_;
  CondVar wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace kite::metrics
