#include "src/server/authn/token_claims.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

#include "src/server/json/json_util.h"

namespace kite::authn {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Key(Writer& w, std::string_view key) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
}
void Str(Writer& w, std::string_view value) {
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

// Go's json omits empty strings in Kubernetes' ref struct (omitempty).
void WriteRef(Writer& w, std::string_view key, std::string_view name, std::string_view uid) {
  Key(w, key);
  w.StartObject();
  if (!name.empty()) {
    Key(w, "name");
    Str(w, name);
  }
  if (!uid.empty()) {
    Key(w, "uid");
    Str(w, uid);
  }
  w.EndObject();
}

Status MissingClaim(std::string_view name) {
  return InvalidArgumentError("service account token is missing the \"" + std::string(name) +
                              "\" claim");
}
Status BadClaim(std::string_view name, std::string_view want) {
  return InvalidArgumentError("service account token claim \"" + std::string(name) +
                              "\" must be " + std::string(want));
}

// A JWT NumericDate: seconds since the epoch, possibly fractional. Bounded so the arithmetic
// that follows (now ± leeway) cannot overflow.
Result<std::optional<int64_t>> NumericDate(const rapidjson::Value& object, std::string_view name) {
  const rapidjson::Value* v = json::Member(object, name);
  if (!v || v->IsNull()) return std::optional<int64_t>();
  constexpr double kLimit = 1e15;  // ~31 million years: far beyond any real date
  if (v->IsInt64()) {
    int64_t i = v->GetInt64();
    if (i > static_cast<int64_t>(kLimit) || i < -static_cast<int64_t>(kLimit)) {
      return BadClaim(name, "a date within range");
    }
    return std::optional<int64_t>(i);
  }
  if (v->IsNumber()) {
    double d = v->GetDouble();
    if (!std::isfinite(d) || d > kLimit || d < -kLimit) return BadClaim(name, "a date within range");
    return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  return BadClaim(name, "a number");
}

Result<std::string> RequiredString(const rapidjson::Value& object, std::string_view name,
                                   std::string_view path) {
  const rapidjson::Value* v = json::Member(object, name);
  if (!v || v->IsNull()) return MissingClaim(path);
  if (!v->IsString()) return BadClaim(path, "a string");
  if (v->GetStringLength() == 0) return MissingClaim(path);
  return std::string(v->GetString(), v->GetStringLength());
}

Result<std::string> OptionalString(const rapidjson::Value& object, std::string_view name,
                                   std::string_view path) {
  const rapidjson::Value* v = json::Member(object, name);
  if (!v || v->IsNull()) return std::string();
  if (!v->IsString()) return BadClaim(path, "a string");
  return std::string(v->GetString(), v->GetStringLength());
}

Result<std::optional<BoundObject>> Ref(const rapidjson::Value& k8s, std::string_view key,
                                       std::string_view kind) {
  const rapidjson::Value* v = json::Member(k8s, key);
  if (!v || v->IsNull()) return std::optional<BoundObject>();
  std::string path = "kubernetes.io." + std::string(key);
  if (!v->IsObject()) return BadClaim(path, "an object");
  Result<std::string> name = OptionalString(*v, "name", path + ".name");
  if (!name.ok()) return name.status();
  Result<std::string> uid = OptionalString(*v, "uid", path + ".uid");
  if (!uid.ok()) return uid.status();
  return std::optional<BoundObject>(BoundObject{std::string(kind), *name, *uid});
}

}  // namespace

std::string ServiceAccountUserName(std::string_view namespace_name, std::string_view name) {
  std::string out = "system:serviceaccount:";
  out += namespace_name;
  out += ':';
  out += name;
  return out;
}

std::string ClaimsToJson(const TokenClaims& c) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  Key(w, "aud");
  w.StartArray();
  for (const std::string& a : c.audiences) Str(w, a);
  w.EndArray();
  Key(w, "exp");
  w.Int64(c.expires_at_s);
  Key(w, "iat");
  w.Int64(c.issued_at_s);
  Key(w, "iss");
  Str(w, c.issuer);
  if (!c.id.empty()) {
    Key(w, "jti");
    Str(w, c.id);
  }
  Key(w, "kubernetes.io");
  w.StartObject();
  Key(w, "namespace");
  Str(w, c.namespace_name);
  if (c.node) WriteRef(w, "node", c.node->name, c.node->uid);
  if (c.pod) WriteRef(w, "pod", c.pod->name, c.pod->uid);
  if (c.secret) WriteRef(w, "secret", c.secret->name, c.secret->uid);
  WriteRef(w, "serviceaccount", c.service_account_name, c.service_account_uid);
  if (c.warn_after_s != 0) {
    Key(w, "warnafter");
    w.Int64(c.warn_after_s);
  }
  w.EndObject();
  Key(w, "nbf");
  w.Int64(c.not_before_s);
  Key(w, "sub");
  Str(w, ServiceAccountUserName(c.namespace_name, c.service_account_name));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

Result<TokenClaims> ParseClaimsJson(std::string_view payload) {
  Result<rapidjson::Document> parsed = json::ParseJsonObject(payload);
  if (!parsed.ok()) {
    return InvalidArgumentError("service account token payload is not a JSON object");
  }
  const rapidjson::Value& doc = *parsed;
  TokenClaims c;

  Result<std::string> iss = RequiredString(doc, "iss", "iss");
  if (!iss.ok()) return iss.status();
  c.issuer = *iss;

  const rapidjson::Value* aud = json::Member(doc, "aud");
  if (!aud || aud->IsNull()) return MissingClaim("aud");
  if (aud->IsString()) {
    c.audiences.emplace_back(aud->GetString(), aud->GetStringLength());
  } else if (aud->IsArray()) {
    for (const rapidjson::Value& a : aud->GetArray()) {
      if (!a.IsString()) return BadClaim("aud", "a string or an array of strings");
      c.audiences.emplace_back(a.GetString(), a.GetStringLength());
    }
  } else {
    return BadClaim("aud", "a string or an array of strings");
  }
  if (c.audiences.empty()) return MissingClaim("aud");

  Result<std::optional<int64_t>> exp = NumericDate(doc, "exp");
  if (!exp.ok()) return exp.status();
  if (!*exp) return MissingClaim("exp");
  c.expires_at_s = **exp;
  Result<std::optional<int64_t>> iat = NumericDate(doc, "iat");
  if (!iat.ok()) return iat.status();
  c.issued_at_s = iat->value_or(0);
  Result<std::optional<int64_t>> nbf = NumericDate(doc, "nbf");
  if (!nbf.ok()) return nbf.status();
  c.not_before_s = nbf->value_or(0);

  Result<std::string> jti = OptionalString(doc, "jti", "jti");
  if (!jti.ok()) return jti.status();
  c.id = *jti;

  const rapidjson::Value* k8s = json::Member(doc, "kubernetes.io");
  if (!k8s || k8s->IsNull()) return MissingClaim("kubernetes.io");
  if (!k8s->IsObject()) return BadClaim("kubernetes.io", "an object");
  Result<std::string> ns = RequiredString(*k8s, "namespace", "kubernetes.io.namespace");
  if (!ns.ok()) return ns.status();
  c.namespace_name = *ns;
  const rapidjson::Value* sa = json::Member(*k8s, "serviceaccount");
  if (!sa || sa->IsNull()) return MissingClaim("kubernetes.io.serviceaccount");
  if (!sa->IsObject()) return BadClaim("kubernetes.io.serviceaccount", "an object");
  Result<std::string> sa_name = RequiredString(*sa, "name", "kubernetes.io.serviceaccount.name");
  if (!sa_name.ok()) return sa_name.status();
  c.service_account_name = *sa_name;
  Result<std::string> sa_uid = RequiredString(*sa, "uid", "kubernetes.io.serviceaccount.uid");
  if (!sa_uid.ok()) return sa_uid.status();
  c.service_account_uid = *sa_uid;

  Result<std::optional<BoundObject>> pod = Ref(*k8s, "pod", "Pod");
  if (!pod.ok()) return pod.status();
  c.pod = *pod;
  Result<std::optional<BoundObject>> secret = Ref(*k8s, "secret", "Secret");
  if (!secret.ok()) return secret.status();
  c.secret = *secret;
  Result<std::optional<BoundObject>> node = Ref(*k8s, "node", "Node");
  if (!node.ok()) return node.status();
  c.node = *node;
  if (c.pod && c.secret) {
    return InvalidArgumentError("service account token is bound to both a pod and a secret");
  }
  Result<std::optional<int64_t>> warn = NumericDate(*k8s, "warnafter");
  if (!warn.ok()) return warn.status();
  c.warn_after_s = warn->value_or(0);

  Result<std::string> sub = RequiredString(doc, "sub", "sub");
  if (!sub.ok()) return sub.status();
  if (*sub != ServiceAccountUserName(c.namespace_name, c.service_account_name)) {
    return InvalidArgumentError("service account token subject \"" + *sub +
                                "\" does not match its kubernetes.io claims");
  }
  return c;
}

}  // namespace kite::authn
