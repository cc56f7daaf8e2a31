#include "src/server/authn/oidc_discovery.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace kite::authn {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Member(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void ListMember(Writer& w, std::string_view key, std::string_view only) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.StartArray();
  w.String(only.data(), static_cast<rapidjson::SizeType>(only.size()));
  w.EndArray();
}

}  // namespace

std::string OpenIdConfigurationJson(std::string_view issuer, std::string_view jwks_uri) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Member(w, "issuer", issuer);
  Member(w, "jwks_uri", jwks_uri);
  ListMember(w, "response_types_supported", "id_token");  // Kubernetes issues ID tokens only
  ListMember(w, "subject_types_supported", "public");
  ListMember(w, "id_token_signing_alg_values_supported", "ES256");
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace kite::authn
