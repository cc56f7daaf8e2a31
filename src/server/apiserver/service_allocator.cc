#include "src/server/apiserver/service_allocator.h"

#include <arpa/inet.h>

#include <random>

#include "src/server/apiserver/object_codec.h"
#include "src/server/json/json_util.h"

namespace kite::apiserver {
namespace {

using rapidjson::Document;
using rapidjson::Value;

constexpr int64_t kReservationMs = 60'000;

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  std::string s(text);
  in_addr addr{};
  if (inet_pton(AF_INET, s.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  in_addr addr{};
  addr.s_addr = htonl(ip);
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  return buf;
}

bool NeedsNodePorts(std::string_view type) { return type == "NodePort" || type == "LoadBalancer"; }

}  // namespace

Result<std::unique_ptr<ServiceAllocator>> ServiceAllocator::Create(ServiceAllocatorOptions options,
                                                                   store::KvStore* kv, Clock* clock) {
  // A dual-stack list: the IPv4 range (the first entry) is the one served for now.
  std::string_view cidr = options.service_cidr;
  cidr = cidr.substr(0, cidr.find(','));
  size_t slash = cidr.find('/');
  std::optional<uint32_t> network = ParseIpv4(cidr.substr(0, slash));
  int prefix = slash == std::string_view::npos ? -1 : std::atoi(std::string(cidr.substr(slash + 1)).c_str());
  if (!network || prefix < 8 || prefix > 30) {
    return InvalidArgumentError("service CIDR " + options.service_cidr +
                                " must be an IPv4 range with a prefix from /8 to /30");
  }
  uint32_t size = uint32_t{1} << (32 - prefix);
  uint32_t base = *network & ~(size - 1);
  return std::unique_ptr<ServiceAllocator>(new ServiceAllocator(std::move(options), kv, clock, base, size));
}

ServiceAllocator::ServiceAllocator(ServiceAllocatorOptions options, store::KvStore* kv, Clock* clock,
                                   uint32_t base, uint32_t size)
    : options_(std::move(options)), kv_(kv), clock_(clock), base_(base), size_(size),
      rng_state_(std::random_device{}()) {}

std::string ServiceAllocator::FirstAddress() const { return FormatIpv4(base_ + 1); }

void ServiceAllocator::Used(const std::string& except_key, std::map<uint32_t, bool>* ips,
                            std::map<int, bool>* ports) {
  int64_t now = clock_->NowMillis();
  for (auto it = recent_ips_.begin(); it != recent_ips_.end();) {
    it = it->second < now ? recent_ips_.erase(it) : std::next(it);
  }
  for (auto it = recent_ports_.begin(); it != recent_ports_.end();) {
    it = it->second < now ? recent_ports_.erase(it) : std::next(it);
  }
  for (const auto& [ip, until] : recent_ips_) (*ips)[ip] = true;
  for (const auto& [port, until] : recent_ports_) (*ports)[port] = true;
  Result<store::RangeResult> all = kv_->Range(store::RangeRequest::Prefix(CollectionPrefix("", "services", "")));
  if (!all.ok()) return;
  for (const store::KeyValue& kv : all->kvs) {
    if (kv.key == except_key) continue;
    Result<Document> svc = json::ParseJsonObject(kv.value);
    if (!svc.ok()) continue;
    const Value* spec = json::Member(*svc, "spec");
    if (!spec) continue;
    if (auto ip = ParseIpv4(json::StringMember(*spec, "clusterIP"))) (*ips)[*ip] = true;
    if (const Value* svc_ports = json::Member(*spec, "ports"); svc_ports && svc_ports->IsArray()) {
      for (const Value& p : svc_ports->GetArray()) {
        const Value* np = p.IsObject() ? json::Member(p, "nodePort") : nullptr;
        if (np && np->IsInt()) (*ports)[np->GetInt()] = true;
      }
    }
  }
}

std::vector<validation::StatusCause> ServiceAllocator::Allocate(Document& service, const Value* old) {
  std::vector<validation::StatusCause> causes;
  auto& a = service.GetAllocator();
  Value* spec = json::MutableMember(service, "spec");
  if (!spec || !spec->IsObject()) return causes;  // validation reports the missing spec
  std::string type(json::StringMember(*spec, "type"));
  if (type.empty()) type = "ClusterIP";
  const Value* md = json::Member(service, "metadata");
  std::string key = md ? ObjectKey("", "services", json::StringMember(*md, "namespace"), json::StringMember(*md, "name"))
                       : std::string();

  MutexLock lock(mu_);
  std::map<uint32_t, bool> used_ips;
  std::map<int, bool> used_ports;
  Used(key, &used_ips, &used_ports);
  int64_t until = clock_->NowMillis() + kReservationMs;
  auto next_random = [this]() REQUIRES(mu_) {
    rng_state_ = rng_state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state_ >> 33;
  };

  // Cluster IP.
  std::string requested(json::StringMember(*spec, "clusterIP"));
  std::string old_ip;
  if (old) {
    if (const Value* old_spec = json::Member(*old, "spec")) old_ip = json::StringMember(*old_spec, "clusterIP");
  }
  if (type == "ExternalName") {
    // No address; a Service that had one keeps nothing.
  } else if (requested == "None") {
    // Headless.
  } else if (!requested.empty() && requested == old_ip) {
    // Unchanged on update.
  } else if (!requested.empty() && !old_ip.empty()) {
    causes.push_back(validation::InvalidCause("spec.clusterIPs[0]", requested, "may not change once set"));
  } else if (requested.empty() && !old_ip.empty()) {
    json::SetStringMember(*spec, "clusterIP", old_ip, a);  // updates keep the allocated IP
  } else if (!requested.empty()) {
    std::optional<uint32_t> ip = ParseIpv4(requested);
    std::string cidr = options_.service_cidr;
    if (!ip) {
      causes.push_back(validation::InvalidCause("spec.clusterIPs[0]", requested, "must be a valid IP address"));
    } else if (*ip <= base_ || *ip >= base_ + size_ - 1) {
      causes.push_back(validation::InvalidCause(
          "spec.clusterIPs[0]", requested,
          "failed to allocate IP " + requested + ": the provided IP (" + requested +
              ") is not in the valid range. The range of valid IPs is " + cidr));
    } else if (used_ips.count(*ip)) {
      causes.push_back(validation::InvalidCause(
          "spec.clusterIPs[0]", requested, "failed to allocate IP " + requested + ": provided IP is already allocated"));
    } else {
      recent_ips_[*ip] = until;
    }
  } else {
    // Random free address, skipping the network, the first (kubernetes) and broadcast ones
    // unless asked for explicitly.
    uint32_t span = size_ - 3;
    uint32_t start = static_cast<uint32_t>(next_random() % span);
    std::optional<uint32_t> chosen;
    for (uint32_t i = 0; i < span; ++i) {
      uint32_t ip = base_ + 2 + (start + i) % span;
      if (!used_ips.count(ip)) {
        chosen = ip;
        break;
      }
    }
    if (!chosen) {
      causes.push_back(validation::InvalidCause("spec.clusterIPs", "", "failed to allocate a serviceIP: range is full"));
    } else {
      recent_ips_[*chosen] = until;
      std::string ip = FormatIpv4(*chosen);
      json::SetStringMember(*spec, "clusterIP", ip, a);
      requested = ip;
    }
  }
  if (type != "ExternalName" && !json::StringMember(*spec, "clusterIP").empty()) {
    Value ips(rapidjson::kArrayType);
    ips.PushBack(Value(std::string(json::StringMember(*spec, "clusterIP")), a), a);
    json::SetMember(*spec, "clusterIPs", std::move(ips), a);
    if (!json::Member(*spec, "ipFamilies")) {
      Value families(rapidjson::kArrayType);
      families.PushBack("IPv4", a);
      json::SetMember(*spec, "ipFamilies", std::move(families), a);
    }
    if (!json::Member(*spec, "ipFamilyPolicy")) json::SetStringMember(*spec, "ipFamilyPolicy", "SingleStack", a);
  }

  // Node ports.
  Value* ports = json::MutableMember(*spec, "ports");
  if (!ports || !ports->IsArray()) return causes;
  std::map<int, bool> old_ports;
  if (old) {
    const Value* old_spec = json::Member(*old, "spec");
    const Value* op = old_spec ? json::Member(*old_spec, "ports") : nullptr;
    if (op && op->IsArray()) {
      for (const Value& p : op->GetArray()) {
        const Value* np = p.IsObject() ? json::Member(p, "nodePort") : nullptr;
        if (np && np->IsInt()) old_ports[np->GetInt()] = true;
      }
    }
  }
  int port_range = options_.node_port_max - options_.node_port_min + 1;
  for (rapidjson::SizeType i = 0; i < ports->Size(); ++i) {
    Value& p = (*ports)[i];
    if (!p.IsObject()) continue;
    Value* np = json::MutableMember(p, "nodePort");
    std::string field = "spec.ports[" + std::to_string(i) + "].nodePort";
    if (!NeedsNodePorts(type)) {
      if (np && np->IsInt() && np->GetInt() != 0) {
        causes.push_back(validation::ForbiddenCause(field, "may not be used when `type` is '" + type + "'"));
      }
      continue;
    }
    if (np && np->IsInt() && np->GetInt() != 0) {
      int want = np->GetInt();
      if (old_ports.count(want)) continue;
      if (want < options_.node_port_min || want > options_.node_port_max) {
        causes.push_back(validation::InvalidRawCause(
            field, std::to_string(want),
            "provided port is not in the valid range. The range of valid ports is " +
                std::to_string(options_.node_port_min) + "-" + std::to_string(options_.node_port_max)));
      } else if (used_ports.count(want)) {
        causes.push_back(validation::InvalidRawCause(field, std::to_string(want), "provided port is already allocated"));
      } else {
        used_ports[want] = true;
        recent_ports_[want] = until;
      }
      continue;
    }
    int start = static_cast<int>(next_random() % port_range);
    std::optional<int> chosen;
    for (int k = 0; k < port_range; ++k) {
      int port = options_.node_port_min + (start + k) % port_range;
      if (!used_ports.count(port)) {
        chosen = port;
        break;
      }
    }
    if (!chosen) {
      causes.push_back(validation::InvalidCause(field, "", "failed to allocate a nodePort: range is full"));
      continue;
    }
    used_ports[*chosen] = true;
    recent_ports_[*chosen] = until;
    json::SetMember(p, "nodePort", Value(*chosen), a);
  }
  return causes;
}

}  // namespace kite::apiserver
