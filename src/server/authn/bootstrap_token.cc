#include "src/server/authn/bootstrap_token.h"

#include <algorithm>
#include <set>

#include "src/base/base64.h"
#include "src/server/authn/encoding.h"
#include "src/server/json/json_util.h"

namespace kite::authn {
namespace {

constexpr size_t kIdLength = 6;
constexpr size_t kSecretLength = 16;
constexpr std::string_view kKeyTokenId = "token-id";
constexpr std::string_view kKeyTokenSecret = "token-secret";
constexpr std::string_view kKeyExpiration = "expiration";
constexpr std::string_view kKeyDescription = "description";
constexpr std::string_view kKeyUsageAuthentication = "usage-bootstrap-authentication";
constexpr std::string_view kKeyUsageSigning = "usage-bootstrap-signing";
constexpr std::string_view kKeyExtraGroups = "auth-extra-groups";
constexpr std::string_view kGroupPrefix = "system:bootstrappers:";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool AllLowerAlnum(std::string_view s) { return std::all_of(s.begin(), s.end(), IsLowerAlnum); }

// data[key] decoded; "" when absent. nullopt when present but not base64 text.
std::optional<std::string> DataValue(const rapidjson::Value& secret, std::string_view key) {
  const rapidjson::Value* data = json::Member(secret, "data");
  if (!data || !data->IsObject()) return std::string();
  const rapidjson::Value* v = json::Member(*data, key);
  if (!v || v->IsNull()) return std::string();
  if (!v->IsString()) return std::nullopt;
  return Base64Decode(std::string_view(v->GetString(), v->GetStringLength()));
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

rapidjson::Value Str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

}  // namespace

std::optional<BootstrapToken> ParseBootstrapToken(std::string_view bearer) {
  if (bearer.size() != kIdLength + 1 + kSecretLength || bearer[kIdLength] != '.') {
    return std::nullopt;
  }
  std::string_view id = bearer.substr(0, kIdLength);
  std::string_view secret = bearer.substr(kIdLength + 1);
  if (!AllLowerAlnum(id) || !AllLowerAlnum(secret)) return std::nullopt;
  return BootstrapToken{std::string(id), std::string(secret)};
}

std::string BootstrapSecretName(std::string_view token_id) {
  return std::string(kBootstrapTokenSecretPrefix) + std::string(token_id);
}

Status ValidateBootstrapGroupName(std::string_view group) {
  auto invalid = [&](std::string why) {
    return InvalidArgumentError("bootstrap group \"" + std::string(group) + "\" is invalid: " + why);
  };
  if (group.substr(0, kGroupPrefix.size()) != kGroupPrefix) {
    return invalid("must start with \"" + std::string(kGroupPrefix) + "\"");
  }
  std::string_view rest = group.substr(kGroupPrefix.size());
  if (rest.empty() || rest.size() > 256) {
    return invalid("must have 1 to 256 characters after the prefix");
  }
  for (char c : rest) {
    if (!IsLowerAlnum(c) && c != ':' && c != '-') {
      return invalid("may contain only [a-z0-9:-] after the prefix");
    }
  }
  if (!IsLowerAlnum(rest.back())) return invalid("must end with [a-z0-9]");
  return Status::Ok();
}

Result<Identity> AuthenticateBootstrapToken(const BootstrapToken& token,
                                            const rapidjson::Value* secret, int64_t now_s) {
  std::string name = BootstrapSecretName(token.id);
  auto reject = [&](std::string why) {
    return InvalidArgumentError("bootstrap token secret " + std::string(kBootstrapTokenNamespace) +
                                "/" + name + " " + why);
  };
  if (!secret || !secret->IsObject()) return reject("not found");
  if (const rapidjson::Value* meta = json::Member(*secret, "metadata")) {
    const rapidjson::Value* deleted = json::Member(*meta, "deletionTimestamp");
    if (deleted && !deleted->IsNull()) return reject("is deleted and awaiting removal");
  }
  if (json::StringMember(*secret, "type") != kBootstrapTokenSecretType ||
      !json::Member(*secret, "data")) {
    return reject("has invalid type, expected " + std::string(kBootstrapTokenSecretType));
  }
  std::optional<std::string> stored_secret = DataValue(*secret, kKeyTokenSecret);
  if (!stored_secret || !ConstantTimeEquals(*stored_secret, token.secret)) {
    return reject("has a different value for key " + std::string(kKeyTokenSecret));
  }
  std::optional<std::string> stored_id = DataValue(*secret, kKeyTokenId);
  if (!stored_id || *stored_id != token.id) {
    return reject("has invalid value for key " + std::string(kKeyTokenId));
  }
  std::optional<std::string> expiration = DataValue(*secret, kKeyExpiration);
  if (!expiration) return reject("has an unreadable expiration; treating as expired");
  if (!expiration->empty()) {
    std::optional<int64_t> expires = ParseRfc3339(*expiration);
    if (!expires) return reject("has unparsable expiration time (" + *expiration + "); treating as expired");
    if (now_s > *expires) return reject("has expired (" + *expiration + ")");
  }
  std::optional<std::string> usage = DataValue(*secret, kKeyUsageAuthentication);
  if (!usage || *usage != "true") {
    return reject("is not marked " + std::string(kKeyUsageAuthentication) + "=true");
  }
  std::set<std::string> groups = {std::string(kBootstrappersGroup)};
  std::optional<std::string> extra = DataValue(*secret, kKeyExtraGroups);
  if (!extra) return reject("has invalid value for key " + std::string(kKeyExtraGroups));
  if (!extra->empty()) {
    for (std::string& group : Split(*extra, ',')) {
      if (Status s = ValidateBootstrapGroupName(group); !s.ok()) {
        return reject("has invalid value for key " + std::string(kKeyExtraGroups) + ": " +
                      s.message());
      }
      groups.insert(std::move(group));
    }
  }
  Identity id;
  id.user = std::string(kBootstrapUserPrefix) + token.id;
  id.groups.assign(groups.begin(), groups.end());  // sorted, as Kubernetes lists a set
  id.groups.emplace_back(kAuthenticatedGroup);
  return id;
}

Result<BootstrapToken> GenerateBootstrapToken() {
  Result<std::string> id = RandomLowerAlnum(kIdLength);
  if (!id.ok()) return id.status();
  Result<std::string> secret = RandomLowerAlnum(kSecretLength);
  if (!secret.ok()) return secret.status();
  return BootstrapToken{*id, *secret};
}

Result<rapidjson::Document> BootstrapTokenSecret(const BootstrapToken& token,
                                                 const BootstrapTokenOptions& options,
                                                 int64_t now_s) {
  if (!ParseBootstrapToken(token.ToString())) {
    return InvalidArgumentError("bootstrap token must be of the form [a-z0-9]{6}.[a-z0-9]{16}");
  }
  for (const std::string& group : options.extra_groups) {
    KITE_RETURN_IF_ERROR(ValidateBootstrapGroupName(group));
  }
  rapidjson::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  doc.AddMember("apiVersion", "v1", a);
  doc.AddMember("kind", "Secret", a);
  rapidjson::Value meta(rapidjson::kObjectType);
  meta.AddMember("name", Str(BootstrapSecretName(token.id), a), a);
  meta.AddMember("namespace", Str(kBootstrapTokenNamespace, a), a);
  doc.AddMember("metadata", meta, a);
  doc.AddMember("type", Str(kBootstrapTokenSecretType, a), a);
  rapidjson::Value data(rapidjson::kObjectType);
  auto put = [&](std::string_view key, std::string_view value) {
    data.AddMember(Str(key, a), Str(Base64Encode(value), a), a);
  };
  if (!options.description.empty()) put(kKeyDescription, options.description);
  if (options.ttl_seconds > 0) put(kKeyExpiration, FormatRfc3339(now_s + options.ttl_seconds));
  put(kKeyTokenId, token.id);
  put(kKeyTokenSecret, token.secret);
  if (options.usage_authentication) put(kKeyUsageAuthentication, "true");
  if (options.usage_signing) put(kKeyUsageSigning, "true");
  if (!options.extra_groups.empty()) {
    std::string joined;
    for (const std::string& g : options.extra_groups) joined += (joined.empty() ? "" : ",") + g;
    put(kKeyExtraGroups, joined);
  }
  doc.AddMember("data", data, a);
  return doc;
}

}  // namespace kite::authn
