#include "src/runtime/fake_runtime.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <cstdio>
#include <random>
#include <string_view>
#include <utility>
#include <vector>

namespace kite::runtime {
namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// 64 hex digits, as containerd's ids and image digests look.
std::string Hex64(uint64_t seed) {
  std::string out;
  char buf[17];
  for (int i = 0; i < 4; ++i) {
    seed = SplitMix(seed);
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(seed));
    out += buf;
  }
  return out;
}

uint64_t HashString(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
    size_t used = static_cast<size_t>(end - (text.data() + i));
    if (ec != std::errc() || used == 0 || used > 3 || value > 255) return std::nullopt;
    out = (out << 8) | value;
    i += used;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return out;
}

std::string FormatIpv4(uint32_t ip) {
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
         std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
}

const std::string* Find(const Labels& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? nullptr : &it->second;
}

// The exit-code hook: an integer 0..255, or -1 when absent or malformed.
int ExitCodeHook(const Labels& annotations) {
  const std::string* v = Find(annotations, kExitCodeAnnotation);
  if (!v) return -1;
  int code = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), code);
  if (ec != std::errc() || end != v->data() + v->size() || code < 0 || code > 255) return -1;
  return code;
}

// The run-seconds hook in milliseconds, or -1 when absent or malformed.
int64_t RunMillisHook(const Labels& annotations) {
  const std::string* v = Find(annotations, kRunSecondsAnnotation);
  if (!v || v->empty()) return -1;
  char* end = nullptr;
  double seconds = std::strtod(v->c_str(), &end);
  if (end != v->c_str() + v->size() || !std::isfinite(seconds) || seconds < 0 || seconds > 1e9) {
    return -1;
  }
  return static_cast<int64_t>(std::llround(seconds * 1000));
}

// A usage hook: a non-negative integer with an optional suffix from `suffixes` (name →
// multiplier); 0 when absent or malformed.
int64_t UsageHook(const Labels& annotations, const char* key,
                  const std::vector<std::pair<std::string_view, int64_t>>& suffixes) {
  const std::string* v = Find(annotations, key);
  if (!v || v->empty()) return 0;
  std::string_view text = *v;
  int64_t multiplier = 1;
  for (const auto& [suffix, factor] : suffixes) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      text.remove_suffix(suffix.size());
      multiplier = factor;
      break;
    }
  }
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) return 0;
  if (n > INT64_MAX / multiplier) return 0;
  return n * multiplier;
}

// The first address and the size of an IPv4 CIDR with a prefix of 8 to 30.
Result<std::pair<uint32_t, uint32_t>> ParsePodCidr(const std::string& cidr) {
  size_t slash = cidr.find('/');
  std::optional<uint32_t> ip = ParseIpv4(std::string_view(cidr).substr(0, slash));
  int prefix = -1;
  if (slash != std::string::npos) {
    std::string_view p = std::string_view(cidr).substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc() || end != p.data() + p.size()) prefix = -1;
  }
  if (!ip || prefix < 8 || prefix > 30) {
    return InvalidArgumentError("pod CIDR \"" + cidr +
                                "\" is not an IPv4 CIDR with a prefix length of 8 to 30");
  }
  uint32_t size = uint32_t{1} << (32 - prefix);
  return std::pair<uint32_t, uint32_t>{*ip & ~(size - 1), size};
}

}  // namespace

Result<std::unique_ptr<FakeRuntime>> FakeRuntime::Create(FakeRuntimeOptions options) {
  std::unique_ptr<FakeRuntime> rt(new FakeRuntime(options));
  if (!options.pod_cidr.empty()) KITE_RETURN_IF_ERROR(rt->SetPodCidr(options.pod_cidr));
  return rt;
}

FakeRuntime::FakeRuntime(const FakeRuntimeOptions& options)
    : clock_(options.clock ? options.clock : SystemClock::Get()), id_salt_(std::random_device{}()) {}

Status FakeRuntime::SetPodCidr(const std::string& pod_cidr) {
  Result<std::pair<uint32_t, uint32_t>> range = ParsePodCidr(pod_cidr);
  if (!range.ok()) return range.status();
  MutexLock lock(mu_);
  pod_cidr_ = pod_cidr;
  network_ = range->first;
  size_ = range->second;
  return Status();
}

std::string FakeRuntime::PodCidr() const {
  MutexLock lock(mu_);
  return pod_cidr_;
}

std::string FakeRuntime::NewId() { return Hex64(id_salt_ ^ SplitMix(next_id_++)); }

Result<std::string> FakeRuntime::PullImage(const std::string& image) {
  if (image.empty()) return InvalidArgumentError("image name is empty");
  return "sha256:" + Hex64(HashString(image));
}

Result<std::string> FakeRuntime::RunPodSandbox(const PodSandboxConfig& config) {
  MutexLock lock(mu_);
  std::string ip;
  // A sandbox in the host's network namespace gets no address of its own (as with CRI; the
  // agent shows the host's).
  if (!config.host_network) {
    if (pod_cidr_.empty()) return UnavailableError("no pod CIDR yet: the pod network is not set up");
    uint32_t offset = 2;  // .0 is the network, .1 the gateway
    while (offset < size_ - 1 && used_ips_.count(network_ + offset)) ++offset;
    if (offset >= size_ - 1) {
      return ResourceExhaustedError("no free pod IP in " + pod_cidr_);
    }
    used_ips_.insert(network_ + offset);
    ip = FormatIpv4(network_ + offset);
  }
  PodSandbox sandbox;
  sandbox.id = NewId();
  sandbox.metadata = config.metadata;
  sandbox.state = SandboxState::kReady;
  sandbox.created_at = clock_->NowMillis();
  sandbox.ip = std::move(ip);
  sandbox.labels = config.labels;
  sandbox.annotations = config.annotations;
  std::string id = sandbox.id;
  sandboxes_.emplace(id, std::move(sandbox));
  return id;
}

Status FakeRuntime::StopPodSandbox(const std::string& sandbox_id) {
  MutexLock lock(mu_);
  auto it = sandboxes_.find(sandbox_id);
  if (it == sandboxes_.end()) return NotFoundError("pod sandbox " + sandbox_id + " not found");
  int64_t now = clock_->NowMillis();
  for (auto& [id, entry] : containers_) {
    if (entry.info.sandbox_id != sandbox_id) continue;
    Advance(entry, now);
    if (entry.info.state == ContainerState::kRunning) Exit(entry, now, 0);
  }
  it->second.state = SandboxState::kNotReady;
  return Status();
}

Status FakeRuntime::RemovePodSandbox(const std::string& sandbox_id) {
  MutexLock lock(mu_);
  auto it = sandboxes_.find(sandbox_id);
  if (it == sandboxes_.end()) return Status();
  for (auto c = containers_.begin(); c != containers_.end();) {
    c = c->second.info.sandbox_id == sandbox_id ? containers_.erase(c) : std::next(c);
  }
  std::optional<uint32_t> ip = ParseIpv4(it->second.ip);
  if (ip) used_ips_.erase(*ip);
  sandboxes_.erase(it);
  return Status();
}

Result<PodSandbox> FakeRuntime::PodSandboxStatus(const std::string& sandbox_id) {
  MutexLock lock(mu_);
  auto it = sandboxes_.find(sandbox_id);
  if (it == sandboxes_.end()) return NotFoundError("pod sandbox " + sandbox_id + " not found");
  return it->second;
}

Result<std::vector<PodSandbox>> FakeRuntime::ListPodSandbox() {
  MutexLock lock(mu_);
  std::vector<PodSandbox> out;
  out.reserve(sandboxes_.size());
  for (const auto& [id, sandbox] : sandboxes_) out.push_back(sandbox);
  return out;
}

Result<std::string> FakeRuntime::CreateContainer(const std::string& sandbox_id,
                                                 const ContainerConfig& config,
                                                 const PodSandboxConfig& sandbox_config) {
  if (config.metadata.name.empty()) return InvalidArgumentError("container name is empty");
  if (config.image.empty()) {
    return InvalidArgumentError("container " + config.metadata.name + " has no image");
  }
  Result<std::string> image_ref = PullImage(config.image);
  if (!image_ref.ok()) return image_ref.status();
  MutexLock lock(mu_);
  auto sandbox = sandboxes_.find(sandbox_id);
  if (sandbox == sandboxes_.end()) return NotFoundError("pod sandbox " + sandbox_id + " not found");
  if (sandbox->second.state != SandboxState::kReady) {
    return InvalidArgumentError("pod sandbox " + sandbox_id + " is not ready");
  }
  ContainerEntry entry;
  entry.info.id = NewId();
  entry.info.sandbox_id = sandbox_id;
  entry.info.metadata = config.metadata;
  entry.info.state = ContainerState::kCreated;
  entry.info.created_at = clock_->NowMillis();
  entry.info.image = config.image;
  entry.info.image_ref = *image_ref;
  entry.info.labels = config.labels;
  entry.info.annotations = config.annotations;
  const std::string* init = Find(config.labels, kInitContainerLabel);
  bool is_init = init && *init == "true";
  entry.exit_code_hook = ExitCodeHook(sandbox_config.annotations);
  if (entry.exit_code_hook < 0 && is_init) entry.exit_code_hook = 0;
  if (!is_init) {
    entry.run_millis = RunMillisHook(sandbox_config.annotations);
    // Capped at 1000 cores so the cumulative counter cannot overflow in any realistic run.
    entry.cpu_millicores = std::min<int64_t>(UsageHook(sandbox_config.annotations, kCpuMillicoresAnnotation, {}),
                                             1'000'000);
    entry.memory_bytes = UsageHook(sandbox_config.annotations, kMemoryBytesAnnotation,
                                   {{"Ki", int64_t{1} << 10}, {"Mi", int64_t{1} << 20}, {"Gi", int64_t{1} << 30},
                                    {"Ti", int64_t{1} << 40}, {"k", 1'000}, {"M", 1'000'000},
                                    {"G", 1'000'000'000}, {"T", 1'000'000'000'000}});
  }
  std::string id = entry.info.id;
  containers_.emplace(id, std::move(entry));
  return id;
}

Status FakeRuntime::StartContainer(const std::string& container_id) {
  MutexLock lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFoundError("container " + container_id + " not found");
  ContainerEntry& entry = it->second;
  if (entry.info.state != ContainerState::kCreated) {
    return InvalidArgumentError("container " + container_id + " is not in the created state");
  }
  int64_t now = clock_->NowMillis();
  entry.info.state = ContainerState::kRunning;
  entry.info.started_at = now;
  if (entry.exit_code_hook >= 0) Exit(entry, now, entry.exit_code_hook);
  return Status();
}

void FakeRuntime::Exit(ContainerEntry& entry, int64_t at, int32_t code) {
  entry.info.state = ContainerState::kExited;
  entry.info.finished_at = at;
  entry.info.exit_code = code;
  entry.info.reason = code == 0 ? "Completed" : "Error";
}

void FakeRuntime::Advance(ContainerEntry& entry, int64_t now) {
  if (entry.info.state != ContainerState::kRunning || entry.run_millis < 0) return;
  int64_t end = entry.info.started_at + entry.run_millis;
  if (now >= end) Exit(entry, end, 0);
}

Status FakeRuntime::StopContainer(const std::string& container_id, int64_t /*timeout_seconds*/) {
  MutexLock lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFoundError("container " + container_id + " not found");
  int64_t now = clock_->NowMillis();
  Advance(it->second, now);
  if (it->second.info.state == ContainerState::kRunning) Exit(it->second, now, 0);
  return Status();
}

Status FakeRuntime::RemoveContainer(const std::string& container_id) {
  MutexLock lock(mu_);
  containers_.erase(container_id);
  return Status();
}

Result<Container> FakeRuntime::ContainerStatus(const std::string& container_id) {
  MutexLock lock(mu_);
  auto it = containers_.find(container_id);
  if (it == containers_.end()) return NotFoundError("container " + container_id + " not found");
  Advance(it->second, clock_->NowMillis());
  return it->second.info;
}

Result<std::vector<Container>> FakeRuntime::ListContainers(const std::string& sandbox_id) {
  MutexLock lock(mu_);
  int64_t now = clock_->NowMillis();
  std::vector<Container> out;
  for (auto& [id, entry] : containers_) {
    if (!sandbox_id.empty() && entry.info.sandbox_id != sandbox_id) continue;
    Advance(entry, now);
    out.push_back(entry.info);
  }
  return out;
}

Result<std::vector<ContainerStats>> FakeRuntime::ListContainerStats() {
  MutexLock lock(mu_);
  int64_t now = clock_->NowMillis();
  std::vector<ContainerStats> out;
  for (auto& [id, entry] : containers_) {
    Advance(entry, now);
    if (entry.info.state != ContainerState::kRunning) continue;
    ContainerStats stats;
    stats.container_id = id;
    stats.timestamp_nanos = now * 1'000'000;
    // millicores × ms × 1000 = core-nanoseconds: exact, so rates come out exact too.
    int64_t ran_millis = std::max<int64_t>(0, now - entry.info.started_at);
    stats.cpu_usage_core_nanos = static_cast<uint64_t>(entry.cpu_millicores) *
                                 static_cast<uint64_t>(ran_millis) * 1000u;
    stats.memory_working_set_bytes = static_cast<uint64_t>(entry.memory_bytes);
    out.push_back(std::move(stats));
  }
  return out;
}

Result<ExecSyncResult> FakeRuntime::ExecSync(const std::string& container_id,
                                             const std::vector<std::string>& command, int64_t timeout_seconds) {
  Container container;
  std::shared_ptr<const ExecHandler> handler;
  int exit_code = 0;
  {
    MutexLock lock(mu_);
    auto it = containers_.find(container_id);
    if (it == containers_.end()) return NotFoundError("container " + container_id + " not found");
    Advance(it->second, clock_->NowMillis());
    if (it->second.info.state != ContainerState::kRunning) {
      return InvalidArgumentError("container " + container_id + " is not running");
    }
    container = it->second.info;
    handler = exec_handler_;
    auto sandbox = sandboxes_.find(container.sandbox_id);
    if (sandbox != sandboxes_.end()) {
      const std::string* v = Find(sandbox->second.annotations, kExecExitCodeAnnotation);
      int code = 0;
      if (v) {
        auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), code);
        if (ec == std::errc() && end == v->data() + v->size() && code >= 0 && code <= 255) exit_code = code;
      }
    }
  }
  if (handler && *handler) return (*handler)(container, command, timeout_seconds);
  ExecSyncResult result;
  result.exit_code = exit_code;
  return result;
}

void FakeRuntime::SetExecHandler(ExecHandler handler) {
  auto shared = handler ? std::make_shared<const ExecHandler>(std::move(handler)) : nullptr;
  MutexLock lock(mu_);
  exec_handler_ = std::move(shared);
}

size_t FakeRuntime::SandboxCount() const {
  MutexLock lock(mu_);
  return sandboxes_.size();
}

}  // namespace kite::runtime
