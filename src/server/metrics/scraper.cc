#include "src/server/metrics/scraper.h"

#include <memory>
#include <vector>

#include "src/server/apiserver/kubelet_client.h"
#include "src/server/json/json_util.h"

namespace kite::metrics {
namespace {

Labels LabelsOf(const rapidjson::Value& object) {
  Labels out;
  const rapidjson::Value* md = json::Member(object, "metadata");
  const rapidjson::Value* labels = md ? json::Member(*md, "labels") : nullptr;
  if (!labels || !labels->IsObject()) return out;
  for (const auto& m : labels->GetObject()) {
    if (m.value.IsString()) {
      out.emplace(std::string(m.name.GetString(), m.name.GetStringLength()),
                  std::string(m.value.GetString(), m.value.GetStringLength()));
    }
  }
  return out;
}

std::string NameOf(const rapidjson::Value& object) {
  const rapidjson::Value* md = json::Member(object, "metadata");
  return md ? std::string(json::StringMember(*md, "name")) : std::string();
}

// Reads a streamed body to its end, or fails at `deadline` or past `limit` bytes.
Result<std::string> ReadAll(http::ResponseStream& stream, std::chrono::steady_clock::time_point deadline,
                            size_t limit) {
  struct Wake {
    Mutex mu;
    CondVar cv;
    bool woken GUARDED_BY(mu) = false;
  };
  auto wake = std::make_shared<Wake>();
  stream.Start([wake] {
    MutexLock lock(wake->mu);
    wake->woken = true;
    wake->cv.NotifyAll();
  });
  std::string body;
  while (true) {
    std::string chunk;
    bool more = stream.Poll(chunk);
    body += chunk;
    if (body.size() > limit) {
      stream.Cancel();
      return ResourceExhaustedError("the metrics body is over " + std::to_string(limit) + " bytes");
    }
    if (!more) return body;
    MutexLock lock(wake->mu);
    while (!wake->woken) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        stream.Cancel();
        return UnavailableError("the metrics body did not arrive in time");
      }
      wake->cv.WaitFor(wake->mu, deadline - now);
    }
    wake->woken = false;
  }
}

}  // namespace

NodeFetcher KubeletFetcher(apiserver::KubeletClient* kubelet, std::chrono::milliseconds fetch_timeout,
                           size_t max_body_bytes) {
  return [kubelet, fetch_timeout, max_body_bytes](const rapidjson::Value& node) -> Result<std::string> {
    Result<apiserver::NodeEndpoint> endpoint = apiserver::NodeEndpointOf(node);
    if (!endpoint.ok()) return endpoint.status();
    Result<apiserver::KubeletResponse> response = kubelet->Get(*endpoint, "/metrics/resource");
    if (!response.ok()) return response.status();
    if (response->status != 200 || !response->stream) {
      std::string text = response->body.substr(0, 200);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      return InternalError("the agent answered " + std::to_string(response->status) + ": " + text);
    }
    return ReadAll(*response->stream, std::chrono::steady_clock::now() + fetch_timeout, max_body_bytes);
  };
}

bool ShouldScrape(const rapidjson::Value& node) {
  Labels labels = LabelsOf(node);
  if (auto it = labels.find("kite.dev/simulated"); it != labels.end() && it->second == "true") return false;
  const rapidjson::Value* status = json::Member(node, "status");
  const rapidjson::Value* conditions = status ? json::Member(*status, "conditions") : nullptr;
  if (!conditions || !conditions->IsArray()) return false;
  for (const rapidjson::Value& c : conditions->GetArray()) {
    if (c.IsObject() && json::StringMember(c, "type") == "Ready") return json::StringMember(c, "status") == "True";
  }
  return false;
}

Scraper::Scraper(ScraperOptions options, NodeFetcher fetch, client::Informer* nodes, client::Informer* pods,
                 MetricsStore* store)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : SystemClock::Get()),
      fetch_(std::move(fetch)),
      nodes_(nodes),
      pods_(pods),
      store_(store) {}

Scraper::~Scraper() { Stop(); }

void Scraper::Start() {
  {
    MutexLock lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void Scraper::Stop() {
  {
    MutexLock lock(mu_);
    stop_ = true;
    wake_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
}

void Scraper::Run() {
  while (true) {
    ScrapeOnce();
    MutexLock lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + options_.resolution;
    while (!stop_) {
      auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      wake_.WaitFor(mu_, deadline - now);
    }
    if (stop_) return;
  }
}

void Scraper::ScrapeOnce() {
  std::vector<client::ObjectPtr> nodes;
  for (const client::ObjectPtr& node : nodes_->List()) {
    if (ShouldScrape(*node)) nodes.push_back(node);
  }
  struct Outcome {
    Result<std::string> body = UnavailableError("not scraped");
    int64_t scraped_at = 0;
  };
  std::vector<Outcome> outcomes(nodes.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < nodes.size();) {
      outcomes[i].body = fetch_(*nodes[i]);
      outcomes[i].scraped_at = clock_->NowMillis();
    }
  };
  size_t workers = std::min<size_t>(nodes.size(), static_cast<size_t>(std::max(1, options_.parallelism)));
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();

  std::vector<NodeScrape> batch;
  for (size_t i = 0; i < nodes.size(); ++i) {
    std::string name = NameOf(*nodes[i]);
    Result<NodeSample> sample = outcomes[i].body.ok()
                                    ? ParseResourceMetrics(*outcomes[i].body, outcomes[i].scraped_at)
                                    : Result<NodeSample>(outcomes[i].body.status());
    std::string& failing = failing_[name];
    if (!sample.ok()) {
      if (failing.empty() && options_.log) {
        options_.log("metrics: cannot scrape node " + name + ": " + sample.status().message());
      }
      failing = sample.status().message();
      continue;
    }
    if (!failing.empty() && options_.log) options_.log("metrics: node " + name + " scraped again");
    failing.clear();
    NodeScrape scrape;
    scrape.node = name;
    scrape.node_labels = LabelsOf(*nodes[i]);
    for (const ContainerSample& c : sample->containers) {
      std::string key = c.namespace_ + "/" + c.pod;
      if (scrape.pod_labels.count(key)) continue;
      if (client::ObjectPtr pod = pods_->Get(c.namespace_, c.pod)) scrape.pod_labels.emplace(key, LabelsOf(*pod));
    }
    scrape.sample = std::move(sample).value();
    batch.push_back(std::move(scrape));
  }
  // Forget nodes that are gone, so the map does not grow with churn.
  for (auto it = failing_.begin(); it != failing_.end();) {
    bool present = false;
    for (const client::ObjectPtr& n : nodes) present = present || NameOf(*n) == it->first;
    it = present ? std::next(it) : failing_.erase(it);
  }
  store_->Store(std::move(batch));
}

}  // namespace kite::metrics
