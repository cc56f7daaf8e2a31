#include "src/agent/pod_objects.h"

#include <algorithm>
#include <ctime>

#include "src/agent/json_build.h"
#include "src/server/client/well_known_resources.h"
#include "src/server/json/json_util.h"

namespace kite::agent {
namespace {

using rapidjson::Document;
using rapidjson::Value;

std::string NotFoundText(std::string_view resource, std::string_view name) {
  return std::string(resource) + " \"" + std::string(name) + "\" not found";
}

// "2024-05-01T10:00:00Z" (fraction and offset ignored) → Unix ms; 0 when it does not parse.
int64_t ParseTimeMillis(std::string_view text) {
  if (text.size() < 19) return 0;
  struct tm tm_utc = {};
  std::string s(text.substr(0, 19));
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm_utc);
  if (!end || *end != '\0') return 0;
  return static_cast<int64_t>(timegm(&tm_utc)) * 1000;
}

client::ObjectPtr Share(Document doc) { return std::make_shared<const Document>(std::move(doc)); }

std::string MetaField(const Value& object, std::string_view field) {
  const Value* md = json::Member(object, "metadata");
  return md ? std::string(json::StringMember(*md, field)) : std::string();
}

}  // namespace

// --- ApiPodObjects --------------------------------------------------------------------------

ApiPodObjects::ApiPodObjects(client::ApiTransport* transport, ApiPodObjectsOptions options)
    : options_(options),
      clock_(options_.clock ? options_.clock : SystemClock::Get()),
      config_maps_(transport, client::kConfigMaps),
      secrets_(transport, client::kSecrets),
      claims_(transport, client::kPersistentVolumeClaims),
      volumes_(transport, client::kPersistentVolumes),
      services_(transport, client::kServices),
      service_accounts_(transport, client::kServiceAccounts) {}

ApiPodObjects::~ApiPodObjects() {
  MutexLock lock(mu_);
  if (services_informer_) services_informer_->Stop();
}

Result<client::ObjectPtr> ApiPodObjects::Get(const client::ResourceClient& client, std::string_view ns,
                                             std::string_view name, std::string_view singular) {
  std::string key = client.ref().resource + "/" + std::string(ns) + "/" + std::string(name);
  int64_t now = clock_->NowMillis();
  {
    MutexLock lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && now - it->second.fetched_at < options_.cache_ttl.count()) {
      if (!it->second.status.ok()) return it->second.status;
      return it->second.object;
    }
  }
  // No lock while the request is out: a slow API server must not stall other pods.
  Result<Document> got = client.Get(ns, name);
  Cached entry;
  entry.fetched_at = now;
  if (got.ok()) {
    entry.object = Share(std::move(got).value());
  } else if (got.status().code() == StatusCode::kNotFound) {
    entry.status = NotFoundError(singular.empty() ? got.status().message() : NotFoundText(singular, name));
  } else {
    return got.status();  // not cached: the next look tries again
  }
  MutexLock lock(mu_);
  cache_[key] = entry;
  if (!entry.status.ok()) return entry.status;
  return entry.object;
}

Result<client::ObjectPtr> ApiPodObjects::ConfigMap(std::string_view ns, std::string_view name) {
  return Get(config_maps_, ns, name, "configmap");
}

Result<client::ObjectPtr> ApiPodObjects::Secret(std::string_view ns, std::string_view name) {
  return Get(secrets_, ns, name, "secret");
}

Result<client::ObjectPtr> ApiPodObjects::PersistentVolumeClaim(std::string_view ns, std::string_view name) {
  return Get(claims_, ns, name, "");
}

Result<client::ObjectPtr> ApiPodObjects::PersistentVolume(std::string_view name) {
  return Get(volumes_, "", name, "");
}

Result<std::vector<client::ObjectPtr>> ApiPodObjects::Services(std::string_view ns) {
  client::Informer* informer;
  {
    MutexLock lock(mu_);
    if (!services_informer_) {
      services_informer_ = std::make_unique<client::Informer>(services_);
      services_informer_->Start();
    }
    informer = services_informer_.get();
  }
  if (!informer->WaitForSync(options_.services_sync_timeout)) {
    return UnavailableError("the list of services has not been read yet");
  }
  return informer->List(ns);
}

Result<std::string> ApiPodObjects::ServiceAccountToken(const ServiceAccountTokenRequest& request) {
  const std::string key = request.Key();
  int64_t now = clock_->NowMillis();
  Token previous;
  {
    MutexLock lock(mu_);
    auto it = tokens_.find(key);
    if (it != tokens_.end()) {
      if (now < it->second.refresh_at) return it->second.token;
      previous = it->second;
    }
  }
  Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  jb::PutStr(body, "apiVersion", "authentication.k8s.io/v1", a);
  jb::PutStr(body, "kind", "TokenRequest", a);
  Value spec = jb::Object();
  if (!request.audience.empty()) {
    Value audiences = jb::Array();
    audiences.PushBack(jb::Str(request.audience, a), a);
    jb::Put(spec, "audiences", std::move(audiences), a);
  }
  jb::PutInt(spec, "expirationSeconds", request.expiration_seconds, a);
  Value bound = jb::Object();
  jb::PutStr(bound, "apiVersion", "v1", a);
  jb::PutStr(bound, "kind", "Pod", a);
  jb::PutStr(bound, "name", request.pod_name, a);
  jb::PutStr(bound, "uid", request.pod_uid, a);
  jb::Put(spec, "boundObjectRef", std::move(bound), a);
  jb::Put(body, "spec", std::move(spec), a);

  Result<Document> answer =
      service_accounts_.CreateSubresource(request.namespace_, request.service_account, "token", body);
  if (!answer.ok()) {
    // A token that is still valid serves while the API cannot issue a new one.
    if (!previous.token.empty() && now < previous.expires_at) return previous.token;
    return answer.status();
  }
  const Value* status = json::Member(*answer, "status");
  std::string token(status ? json::StringMember(*status, "token") : std::string_view());
  if (token.empty())
    return UnavailableError("the token request for service account " + request.service_account +
                            " returned no token");
  // The lifetime the server granted (it may differ from the one asked for), counted on our
  // own clock from now, so clock skew between node and server cannot keep a token too long.
  int64_t lifetime_seconds = request.expiration_seconds;
  const Value* granted_spec = json::Member(*answer, "spec");
  if (const Value* granted = granted_spec ? json::Member(*granted_spec, "expirationSeconds") : nullptr;
      granted && granted->IsInt64() && granted->GetInt64() > 0) {
    lifetime_seconds = granted->GetInt64();
  }
  int64_t lifetime = lifetime_seconds * 1000;
  if (int64_t server_expiry =
          ParseTimeMillis(status ? json::StringMember(*status, "expirationTimestamp") : "");
      server_expiry > now) {
    lifetime = std::min(lifetime, server_expiry - now);
  }
  Token fresh{token, now + lifetime * 8 / 10, now + lifetime};
  MutexLock lock(mu_);
  tokens_[key] = fresh;
  return token;
}

// --- FakePodObjects -------------------------------------------------------------------------

bool FakePodObjects::Put(std::string_view kind, std::string_view json_text) {
  if (kind != "ConfigMap" && kind != "Secret" && kind != "PersistentVolumeClaim" &&
      kind != "PersistentVolume" && kind != "Service") {
    return false;
  }
  Result<Document> doc = json::ParseJsonObject(json_text);
  if (!doc.ok()) return false;
  std::string key = MetaField(*doc, "namespace") + "/" + MetaField(*doc, "name");
  MutexLock lock(mu_);
  objects_[std::string(kind)][key] = Share(std::move(doc).value());
  return true;
}

void FakePodObjects::Remove(std::string_view kind, std::string_view ns, std::string_view name) {
  MutexLock lock(mu_);
  auto it = objects_.find(kind);
  if (it != objects_.end()) it->second.erase(std::string(ns) + "/" + std::string(name));
}

void FakePodObjects::ExpireTokens() {
  MutexLock lock(mu_);
  tokens_.clear();
}

std::vector<ServiceAccountTokenRequest> FakePodObjects::token_requests() const {
  MutexLock lock(mu_);
  return token_requests_;
}

int FakePodObjects::lookups() const {
  MutexLock lock(mu_);
  return lookups_;
}

Result<client::ObjectPtr> FakePodObjects::Find(std::string_view kind, std::string_view ns,
                                               std::string_view name, std::string_view message_resource) {
  MutexLock lock(mu_);
  ++lookups_;
  auto it = objects_.find(kind);
  if (it != objects_.end()) {
    auto found = it->second.find(std::string(ns) + "/" + std::string(name));
    if (found != it->second.end()) return found->second;
  }
  return NotFoundError(NotFoundText(message_resource, name));
}

Result<client::ObjectPtr> FakePodObjects::ConfigMap(std::string_view ns, std::string_view name) {
  return Find("ConfigMap", ns, name, "configmap");
}

Result<client::ObjectPtr> FakePodObjects::Secret(std::string_view ns, std::string_view name) {
  return Find("Secret", ns, name, "secret");
}

Result<client::ObjectPtr> FakePodObjects::PersistentVolumeClaim(std::string_view ns, std::string_view name) {
  return Find("PersistentVolumeClaim", ns, name, "persistentvolumeclaims");
}

Result<client::ObjectPtr> FakePodObjects::PersistentVolume(std::string_view name) {
  return Find("PersistentVolume", "", name, "persistentvolumes");
}

Result<std::vector<client::ObjectPtr>> FakePodObjects::Services(std::string_view ns) {
  MutexLock lock(mu_);
  ++lookups_;
  std::vector<client::ObjectPtr> out;
  auto it = objects_.find(std::string_view("Service"));
  if (it == objects_.end()) return out;
  std::string prefix = std::string(ns) + "/";
  for (const auto& [key, object] : it->second) {
    if (key.compare(0, prefix.size(), prefix) == 0) out.push_back(object);
  }
  return out;
}

Result<std::string> FakePodObjects::ServiceAccountToken(const ServiceAccountTokenRequest& request) {
  MutexLock lock(mu_);
  auto it = tokens_.find(request.Key());
  if (it != tokens_.end()) return it->second;
  token_requests_.push_back(request);
  std::string token = "token-" + std::to_string(next_token_++);
  tokens_[request.Key()] = token;
  return token;
}

}  // namespace kite::agent
