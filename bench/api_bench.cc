// api_bench: the API server's throughput and latency over real HTTPS, beside the store's own
// write rate measured in the same run.
//
//   creates/s of 1 KiB ConfigMaps with 1 and 32 concurrent clients (keep-alive connections),
//   p50/p99 write latency, GET latency, LIST of 10,000 objects, and watch event latency with
//   1,000 concurrent watchers.
// Ends with one `RESULT name=value ...` line.
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "src/server/apiserver/api_server.h"
#include "src/store/open_store.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

struct Tls {
  std::string dir;  // <server_dir>/tls
  std::string Ca() const { return dir + "/server-ca.crt"; }
  std::string Cert() const { return dir + "/client-admin.crt"; }
  std::string Key() const { return dir + "/client-admin.key"; }
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// One keep-alive HTTPS client.
class Client {
 public:
  Client(const Tls& tls, int port) : base_("https://127.0.0.1:" + std::to_string(port)) {
    curl_ = curl_easy_init();
    curl_easy_setopt(curl_, CURLOPT_CAINFO, tls.Ca().c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLCERT, tls.Cert().c_str());
    curl_easy_setopt(curl_, CURLOPT_SSLKEY, tls.Key().c_str());
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
    headers_ = curl_slist_append(nullptr, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Accept: application/json");
  }
  ~Client() {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  // Returns the HTTP status (0 on a transport error).
  long Request(const char* method, const std::string& path, const std::string& payload = "") {
    body_.clear();
    curl_easy_setopt(curl_, CURLOPT_URL, (base_ + path).c_str());
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    if (payload.empty()) {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, nullptr);
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
      curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
    } else {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    }
    if (curl_easy_perform(curl_) != CURLE_OK) return 0;
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    return status;
  }
  const std::string& body() const { return body_; }

 private:
  std::string base_;
  CURL* curl_;
  curl_slist* headers_;
  std::string body_;
};

std::string ConfigMapJson(const std::string& name, const std::string& filler) {
  return "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name +
         "\"},\"data\":{\"payload\":\"" + filler + "\"}}";
}

struct CreateFigures {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int failures = 0;
};

CreateFigures RunCreates(const Tls& tls, int port, const std::string& ns, int clients, int per_client,
                         const std::string& prefix) {
  std::string filler(1024 - 120, 'x');
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(tls, port);
      for (int i = 0; i < per_client; ++i) {
        std::string name = prefix + "-" + std::to_string(c) + "-" + std::to_string(i);
        auto t0 = Clock::now();
        long status = client.Request("POST", "/api/v1/namespaces/" + ns + "/configmaps",
                                     ConfigMapJson(name, filler));
        latencies[c].push_back(Ms(Clock::now() - t0));
        if (status != 201) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  return {static_cast<double>(clients * per_client) / seconds, Percentile(all, 0.5),
          Percentile(all, 0.99), failures.load()};
}

// The store alone: 32 threads creating 1 KiB values, as the reference.
double StoreCreatesPerSecond(const std::string& dir, int threads_n, int per_thread) {
  auto kv = kite::store::OpenStore("sqlite://" + dir + "/ref.db");
  if (!kv.ok()) return 0;
  std::string value(1024, 'v');
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        (void)(*kv)->Create("/ref/" + std::to_string(t) + "/" + std::to_string(i), value);
      }
    });
  }
  for (auto& t : threads) t.join();
  return static_cast<double>(threads_n * per_thread) /
         std::chrono::duration<double>(Clock::now() - start).count();
}

// Watch latency: `watchers` streams over HTTPS (one curl multi loop), a writer creating
// `events` ConfigMaps; latency = arrival at each watcher minus the create's send time.
struct WatchFigures {
  double p50_ms = 0;
  double p99_ms = 0;
  double delivered_fraction = 0;
};

struct WatchConn {
  std::string buffer;
  std::vector<std::pair<std::string, Clock::time_point>>* arrivals;
};

size_t OnWatchData(char* data, size_t size, size_t n, void* user) {
  auto* conn = static_cast<WatchConn*>(user);
  auto now = Clock::now();
  conn->buffer.append(data, size * n);
  size_t nl;
  while ((nl = conn->buffer.find('\n')) != std::string::npos) {
    std::string line = conn->buffer.substr(0, nl);
    conn->buffer.erase(0, nl + 1);
    size_t at = line.find("\"name\":\"w-");
    if (line.find("\"type\":\"ADDED\"") != std::string::npos && at != std::string::npos) {
      size_t end = line.find('"', at + 8);
      conn->arrivals->emplace_back(line.substr(at + 8, end - at - 8), now);
    }
  }
  return size * n;
}

WatchFigures RunWatch(const Tls& tls, int port, const std::string& ns, int watchers, int events) {
  CURLM* multi = curl_multi_init();
  std::vector<std::unique_ptr<WatchConn>> conns;
  std::vector<std::vector<std::pair<std::string, Clock::time_point>>> arrivals(watchers);
  std::vector<CURL*> handles;
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/api/v1/namespaces/" + ns +
                    "/configmaps?watch=true&resourceVersion=1&timeoutSeconds=600";
  // resourceVersion=1 would replay history; start from "now" instead: read the current one.
  {
    Client c(tls, port);
    c.Request("GET", "/api/v1/namespaces/" + ns + "/configmaps?limit=1");
    size_t at = c.body().find("\"resourceVersion\":\"");
    std::string rv = at == std::string::npos ? "0" : c.body().substr(at + 19, c.body().find('"', at + 19) - at - 19);
    url = "https://127.0.0.1:" + std::to_string(port) + "/api/v1/namespaces/" + ns +
          "/configmaps?watch=true&resourceVersion=" + rv + "&timeoutSeconds=600";
  }
  for (int i = 0; i < watchers; ++i) {
    auto conn = std::make_unique<WatchConn>();
    conn->arrivals = &arrivals[i];
    CURL* h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CAINFO, tls.Ca().c_str());
    curl_easy_setopt(h, CURLOPT_SSLCERT, tls.Cert().c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, tls.Key().c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWatchData);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, conn.get());
    curl_multi_add_handle(multi, h);
    handles.push_back(h);
    conns.push_back(std::move(conn));
  }
  // Let every watch connect: drive the loop until each has its response headers.
  auto connect_deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < connect_deadline) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int connected = 0;
    for (CURL* h : handles) {
      long code = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
      connected += code == 200;
    }
    if (connected == watchers) break;
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }

  std::map<std::string, Clock::time_point> sent;
  std::mutex sent_mu;
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    Client c(tls, port);
    for (int i = 0; i < events; ++i) {
      std::string name = "w-" + std::to_string(i);
      {
        std::lock_guard<std::mutex> lock(sent_mu);
        sent[name] = Clock::now();
      }
      c.Request("POST", "/api/v1/namespaces/" + ns + "/configmaps", ConfigMapJson(name, "w"));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // paced load, not a readiness wait
    }
    writer_done = true;
  });
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (Clock::now() < deadline) {
    int running = 0;
    curl_multi_perform(multi, &running);
    size_t got = 0;
    for (auto& a : arrivals) got += a.size();
    if (writer_done && got >= static_cast<size_t>(watchers) * events) break;
    curl_multi_poll(multi, nullptr, 0, 10, nullptr);
  }
  writer.join();
  std::vector<double> latencies;
  size_t delivered = 0;
  for (auto& a : arrivals) {
    for (auto& [name, at] : a) {
      auto it = sent.find(name);
      if (it == sent.end()) continue;
      latencies.push_back(Ms(at - it->second));
      ++delivered;
    }
  }
  for (CURL* h : handles) {
    curl_multi_remove_handle(multi, h);
    curl_easy_cleanup(h);
  }
  curl_multi_cleanup(multi);
  return {Percentile(latencies, 0.5), Percentile(latencies, 0.99),
          static_cast<double>(delivered) / (static_cast<double>(watchers) * events)};
}

}  // namespace

int main(int argc, char** argv) {
  int watchers = argc > 1 ? std::atoi(argv[1]) : 1000;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  char pattern[] = "/tmp/kite-api-bench-XXXXXX";
  std::string dir = mkdtemp(pattern);
  auto kv = kite::store::OpenStore("sqlite://" + dir + "/state.db");
  if (!kv.ok()) {
    fprintf(stderr, "store: %s\n", kv.status().message().c_str());
    return 1;
  }
  kite::apiserver::ApiServerOptions options;
  options.server_dir = dir + "/server";
  options.port = 0;
  auto server = kite::apiserver::ApiServer::Start(options, kv->get());
  if (!server.ok()) {
    fprintf(stderr, "server: %s\n", server.status().message().c_str());
    return 1;
  }
  int port = (*server)->port();
  Tls tls{dir + "/server/tls"};
  {
    Client c(tls, port);
    c.Request("POST", "/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"bench\"}}");
    c.Request("POST", "/api/v1/namespaces", "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"watch\"}}");
  }

  CreateFigures one = RunCreates(tls, port, "bench", 1, 1000, "one");
  printf("creates, 1 client:   %8.0f/s  p50 %.2f ms  p99 %.2f ms  failures %d\n", one.per_second,
         one.p50_ms, one.p99_ms, one.failures);
  CreateFigures many = RunCreates(tls, port, "bench", 32, 300, "many");
  printf("creates, 32 clients: %8.0f/s  p50 %.2f ms  p99 %.2f ms  failures %d\n", many.per_second,
         many.p50_ms, many.p99_ms, many.failures);

  // The bench namespace now holds 10,600 objects; LIST it whole, and GET one.
  std::vector<double> list_ms, get_ms;
  size_t list_bytes = 0;
  {
    Client c(tls, port);
    for (int i = 0; i < 5; ++i) {
      auto t0 = Clock::now();
      c.Request("GET", "/api/v1/namespaces/bench/configmaps");
      list_ms.push_back(Ms(Clock::now() - t0));
      list_bytes = c.body().size();
    }
    for (int i = 0; i < 1000; ++i) {
      auto t0 = Clock::now();
      c.Request("GET", "/api/v1/namespaces/bench/configmaps/one-0-" + std::to_string(i % 1000));
      get_ms.push_back(Ms(Clock::now() - t0));
    }
  }
  printf("list of %d objects:  median %.1f ms (%zu bytes)\n", 1000 + 32 * 300,
         Percentile(list_ms, 0.5), list_bytes);
  printf("get:                 p50 %.2f ms  p99 %.2f ms\n", Percentile(get_ms, 0.5),
         Percentile(get_ms, 0.99));

  WatchFigures watch = RunWatch(tls, port, "watch", watchers, 50);
  printf("watch, %d watchers:  p50 %.2f ms  p99 %.2f ms  delivered %.4f\n", watchers,
         watch.p50_ms, watch.p99_ms, watch.delivered_fraction);

  (*server)->Stop();
  double store_rate = StoreCreatesPerSecond(dir, 32, 300);
  printf("store alone, 32 writers: %8.0f creates/s (same disk, same run)\n", store_rate);
  std::filesystem::remove_all(dir);

  printf("RESULT creates_per_s_1=%.0f creates_per_s_32=%.0f store_creates_per_s_32=%.0f "
         "ratio_vs_store_32=%.2f write_p50_ms_32=%.2f write_p99_ms_32=%.2f get_p99_ms=%.2f "
         "list_10k_ms=%.1f watchers=%d watch_p50_ms=%.2f watch_p99_ms=%.2f "
         "watch_delivered_fraction=%.4f failures=%d\n",
         one.per_second, many.per_second, store_rate, many.per_second / store_rate, many.p50_ms,
         many.p99_ms, Percentile(get_ms, 0.99), Percentile(list_ms, 0.5), watchers, watch.p50_ms,
         watch.p99_ms, watch.delivered_fraction, one.failures + many.failures);
  curl_global_cleanup();
  return 0;
}
