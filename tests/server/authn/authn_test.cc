#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "src/base/base64.h"
#include "src/server/authn/bootstrap_token.h"
#include "src/server/authn/encoding.h"
#include "src/server/authn/es256_key.h"
#include "src/server/authn/identity.h"
#include "src/server/authn/oidc_discovery.h"
#include "src/server/authn/token_claims.h"
#include "src/server/authn/token_request.h"
#include "src/server/authn/token_signer.h"
#include "src/server/authn/token_verifier.h"
#include "src/server/json/json_util.h"
#include "src/server/pki/certificates.h"

namespace kite::authn {
namespace {

// A fixed key whose key id and coordinates were computed with the openssl CLI:
//   openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | base64url
constexpr char kFixedKeyPem[] = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2XEDp6zFXy0x19Xy
cqt2/uN+i4JR6GoBh9812z85FBqhRANCAAS45DdJYZn4xyHlRuwMdmv+yaSfSF4g
4dgi48Ka55oXCyfnsg9jdE7023IVZTgR7fV1/YKzTB83TEnlfKAL93AY
-----END PRIVATE KEY-----
)";
constexpr char kFixedPublicPem[] = R"(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEuOQ3SWGZ+Mch5UbsDHZr/smkn0he
IOHYIuPCmueaFwsn57IPY3RO9NtyFWU4Ee31df2Cs0wfN0xJ5XygC/dwGA==
-----END PUBLIC KEY-----
)";
// The same public key with its point compressed.
constexpr char kFixedCompressedPem[] = R"(-----BEGIN PUBLIC KEY-----
MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgACuOQ3SWGZ+Mch5UbsDHZr/smkn0he
IOHYIuPCmueaFws=
-----END PUBLIC KEY-----
)";
constexpr char kFixedKid[] = "A3SeNW0U0tM3Esk7Q96mDzGHEXl04Ov024jU73_4Dyc";
constexpr char kFixedX[] = "uOQ3SWGZ-Mch5UbsDHZr_smkn0heIOHYIuPCmueaFws";
constexpr char kFixedY[] = "J-eyD2N0TvTbchVlOBHt9XX9grNMHzdMSeV8oAv3cBg";

constexpr int64_t kNow = 1'714'557'600;  // 2024-05-01T10:00:00Z
const std::string kIssuer(kDefaultIssuer);

std::string NewKeyPem() {
  Result<pki::PrivateKey> key = pki::GenerateKey();
  REQUIRE(key.ok());
  Result<std::string> pem = pki::PrivateKeyToPem(key->get());
  REQUIRE(pem.ok());
  return *pem;
}

TokenSigner FixedSigner() {
  Result<TokenSigner> s = TokenSigner::FromPrivateKeyPem(kFixedKeyPem);
  REQUIRE(s.ok());
  return std::move(s).value();
}

TokenVerifier FixedVerifier(std::vector<std::string> audiences = {kIssuer}) {
  Result<TokenVerifier> v = TokenVerifier::FromPublicKeyPem(kFixedPublicPem, kIssuer, audiences);
  REQUIRE(v.ok());
  return std::move(v).value();
}

TokenClaims SampleClaims() {
  TokenClaims c;
  c.issuer = kIssuer;
  c.audiences = {kIssuer};
  c.namespace_name = "default";
  c.service_account_name = "builder";
  c.service_account_uid = "11111111-2222-3333-4444-555555555555";
  c.pod = BoundObject{"Pod", "web-0", "pod-uid-1"};
  c.node = BoundObject{"Node", "node-a", "node-uid-1"};
  c.issued_at_s = kNow;
  c.not_before_s = kNow;
  c.expires_at_s = kNow + 3600;
  c.id = "6f1c7f3e-8a0b-4c59-9d2e-0123456789ab";
  return c;
}

std::vector<std::string> SplitDots(const std::string& token) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

std::string B64(std::string_view s) { return Base64UrlEncode(s); }

// A token with an arbitrary header and payload, signed (ES256, raw r||s) by the fixed key.
std::string SignRaw(std::string_view header, std::string_view payload) {
  Result<Es256Key> key = Es256Key::FromPrivateKeyPem(kFixedKeyPem);
  REQUIRE(key.ok());
  std::string input = B64(header) + "." + B64(payload);
  Result<std::string> sig = key->Sign(input);
  REQUIRE(sig.ok());
  return input + "." + B64(*sig);
}

std::string FixedHeader() { return std::string(R"({"alg":"ES256","kid":")") + kFixedKid + "\"}"; }

// The status of verifying `token` with the fixed verifier at kNow, expected to be an error.
std::string Rejection(const std::string& token, int64_t now = kNow) {
  Result<TokenClaims> r = FixedVerifier().Verify(token, now);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK_FALSE(r.status().message().empty());
  return r.status().message();
}

std::set<std::string> Keys(const rapidjson::Value& object) {
  std::set<std::string> keys;
  for (const auto& m : object.GetObject()) keys.insert(m.name.GetString());
  return keys;
}

rapidjson::Document Parse(std::string_view text) {
  Result<rapidjson::Document> doc = json::ParseJson(text);
  REQUIRE(doc.ok());
  return std::move(doc).value();
}

// ---------------------------------------------------------------------------------------
// Encodings

TEST_CASE("RFC 3339 timestamps format and parse") {
  CHECK(FormatRfc3339(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(kNow) == "2024-05-01T10:00:00Z");
  CHECK(FormatRfc3339(951782400) == "2000-02-29T00:00:00Z");
  CHECK(ParseRfc3339("2024-05-01T10:00:00Z") == std::optional<int64_t>(kNow));
  CHECK(ParseRfc3339("2024-05-01T12:00:00+02:00") == std::optional<int64_t>(kNow));
  CHECK(ParseRfc3339("2024-05-01T09:30:00-00:30") == std::optional<int64_t>(kNow));
  CHECK(ParseRfc3339("2024-05-01T10:00:00.999Z") == std::optional<int64_t>(kNow));
  CHECK(ParseRfc3339("2000-02-29T00:00:00Z") == std::optional<int64_t>(951782400));
  CHECK_FALSE(ParseRfc3339("2023-02-29T00:00:00Z"));
  CHECK_FALSE(ParseRfc3339("2024-13-01T00:00:00Z"));
  CHECK_FALSE(ParseRfc3339("2024-05-01 10:00:00Z"));
  CHECK_FALSE(ParseRfc3339("2024-05-01T10:00:00"));
  CHECK_FALSE(ParseRfc3339("2024-05-01T10:00:00Zjunk"));
  CHECK_FALSE(ParseRfc3339("tomorrow"));
  for (int64_t t : {int64_t{0}, kNow, int64_t{4102444799}, int64_t{-86401}}) {
    CHECK(ParseRfc3339(FormatRfc3339(t)) == std::optional<int64_t>(t));
  }
}

TEST_CASE("constant-time comparison and random sources") {
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abcd"));
  CHECK(ConstantTimeEquals("", ""));

  Result<std::string> uuid = RandomUuid();
  REQUIRE(uuid.ok());
  REQUIRE(uuid->size() == 36);
  CHECK((*uuid)[8] == '-');
  CHECK((*uuid)[14] == '4');  // version 4
  CHECK(std::string("89ab").find((*uuid)[19]) != std::string::npos);
  CHECK(*RandomUuid() != *uuid);

  Result<std::string> s = RandomLowerAlnum(200);
  REQUIRE(s.ok());
  REQUIRE(s->size() == 200);
  CHECK(s->find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Keys, signing, JWKS

TEST_CASE("the key id is Kubernetes' hash of the public key") {
  TokenSigner signer = FixedSigner();
  CHECK(signer.KeyId() == kFixedKid);
  CHECK(signer.PublicKeyPem() == kFixedPublicPem);
  // The same key read in compressed form hashes the uncompressed encoding, as Go does.
  Result<Es256Key> compressed = Es256Key::FromPublicKeyPem(kFixedCompressedPem);
  REQUIRE(compressed.ok());
  CHECK(compressed->key_id() == kFixedKid);
  // A verifier accepts the private key PEM too, keeping only the public half.
  Result<Es256Key> from_private = Es256Key::FromPublicKeyPem(kFixedKeyPem);
  REQUIRE(from_private.ok());
  CHECK_FALSE(from_private->has_private_key());
  CHECK(from_private->key_id() == kFixedKid);
}

TEST_CASE("keys other than ECDSA P-256 are refused") {
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  REQUIRE(p384);
  Result<std::string> pem = pki::PrivateKeyToPem(p384);
  EVP_PKEY_free(p384);
  REQUIRE(pem.ok());
  Result<TokenSigner> s = TokenSigner::FromPrivateKeyPem(*pem);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(s.status().message(), Catch::Contains("P-256"));

  CHECK_FALSE(TokenSigner::FromPrivateKeyPem("not a key").ok());
  CHECK_FALSE(TokenSigner::FromPrivateKeyPem(kFixedPublicPem).ok());  // no private half
  CHECK_FALSE(TokenVerifier::FromPublicKeyPem("garbage", kIssuer, {kIssuer}).ok());
  CHECK_FALSE(TokenVerifier::FromPublicKeyPem(kFixedPublicPem, "", {kIssuer}).ok());
  CHECK_FALSE(TokenVerifier::FromPublicKeyPem(kFixedPublicPem, kIssuer, {}).ok());
}

TEST_CASE("JWKS describes the signing key") {
  TokenSigner signer = FixedSigner();
  rapidjson::Document jwks = Parse(signer.JwksJson());
  REQUIRE(jwks.IsObject());
  const rapidjson::Value* keys = json::Member(jwks, "keys");
  REQUIRE(keys);
  REQUIRE(keys->IsArray());
  REQUIRE(keys->Size() == 1);
  const rapidjson::Value& k = (*keys)[0];
  CHECK(Keys(k) == std::set<std::string>{"alg", "crv", "kid", "kty", "use", "x", "y"});
  CHECK(json::StringMember(k, "kty") == "EC");
  CHECK(json::StringMember(k, "crv") == "P-256");
  CHECK(json::StringMember(k, "alg") == "ES256");
  CHECK(json::StringMember(k, "use") == "sig");
  CHECK(json::StringMember(k, "kid") == kFixedKid);
  CHECK(json::StringMember(k, "x") == kFixedX);
  CHECK(json::StringMember(k, "y") == kFixedY);

  // A fresh key: 32-byte coordinates and a kid that matches the token header.
  Result<TokenSigner> fresh = TokenSigner::FromPrivateKeyPem(NewKeyPem());
  REQUIRE(fresh.ok());
  rapidjson::Document j2 = Parse(fresh->JwksJson());
  const rapidjson::Value& k2 = j2["keys"][0];
  CHECK(Base64UrlDecode(json::StringMember(k2, "x"))->size() == 32);
  CHECK(Base64UrlDecode(json::StringMember(k2, "y"))->size() == 32);
  std::string header = *Base64UrlDecode(SplitDots(fresh->Sign(SampleClaims()))[0]);
  rapidjson::Document h = Parse(header);
  CHECK(json::StringMember(h, "kid") == json::StringMember(k2, "kid"));
}

TEST_CASE("OpenID configuration names the issuer, the JWKS and ES256") {
  std::string text = OpenIdConfigurationJson(kIssuer, "https://10.0.0.1:6443/openid/v1/jwks");
  rapidjson::Document doc = Parse(text);
  CHECK(json::StringMember(doc, "issuer") == kIssuer);
  CHECK(json::StringMember(doc, "jwks_uri") == "https://10.0.0.1:6443/openid/v1/jwks");
  CHECK(json::ToJson(doc["response_types_supported"]) == R"(["id_token"])");
  CHECK(json::ToJson(doc["subject_types_supported"]) == R"(["public"])");
  CHECK(json::ToJson(doc["id_token_signing_alg_values_supported"]) == R"(["ES256"])");
  // Values are escaped, not pasted.
  rapidjson::Document odd = Parse(OpenIdConfigurationJson("https://a\"b", "x"));
  CHECK(json::StringMember(odd, "issuer") == "https://a\"b");
}

// ---------------------------------------------------------------------------------------
// Sign → verify

TEST_CASE("a signed token verifies and yields its claims") {
  TokenSigner signer = FixedSigner();
  TokenClaims claims = SampleClaims();
  claims.audiences = {"vault", kIssuer};
  std::string token = signer.Sign(claims);
  REQUIRE(SplitDots(token).size() == 3);

  Result<TokenClaims> got = FixedVerifier().Verify(token, kNow + 10);
  REQUIRE(got.ok());
  CHECK(*got == claims);

  // A verifier for a different audience accepts it through "vault".
  Result<TokenClaims> vault = FixedVerifier({"vault"}).Verify(token, kNow);
  CHECK(vault.ok());

  // ECDSA is randomized: two signatures differ, both verify.
  std::string again = signer.Sign(claims);
  CHECK(again != token);
  CHECK(FixedVerifier().Verify(again, kNow).ok());
}

TEST_CASE("the header and claims have Kubernetes' shape") {
  std::string token = FixedSigner().Sign(SampleClaims());
  std::vector<std::string> parts = SplitDots(token);
  rapidjson::Document header = Parse(*Base64UrlDecode(parts[0]));
  CHECK(Keys(header) == std::set<std::string>{"alg", "kid"});
  CHECK(json::StringMember(header, "alg") == "ES256");

  std::string payload_text = *Base64UrlDecode(parts[1]);
  rapidjson::Document payload = Parse(payload_text);
  CHECK(Keys(payload) ==
        std::set<std::string>{"aud", "exp", "iat", "iss", "jti", "kubernetes.io", "nbf", "sub"});
  CHECK(json::StringMember(payload, "sub") == "system:serviceaccount:default:builder");
  CHECK(json::StringMember(payload, "iss") == kIssuer);
  CHECK(json::ToJson(payload["aud"]) == "[\"" + kIssuer + "\"]");
  CHECK(payload["exp"].GetInt64() == kNow + 3600);
  CHECK(payload["iat"].GetInt64() == kNow);
  CHECK(payload["nbf"].GetInt64() == kNow);
  const rapidjson::Value& k8s = payload["kubernetes.io"];
  CHECK(Keys(k8s) == std::set<std::string>{"namespace", "node", "pod", "serviceaccount"});
  CHECK(json::StringMember(k8s, "namespace") == "default");
  CHECK(json::ToJson(k8s["pod"]) == R"({"name":"web-0","uid":"pod-uid-1"})");
  CHECK(json::ToJson(k8s["node"]) == R"({"name":"node-a","uid":"node-uid-1"})");
  CHECK(json::ToJson(k8s["serviceaccount"]) ==
        R"({"name":"builder","uid":"11111111-2222-3333-4444-555555555555"})");
  // Keys come out sorted, as Kubernetes' signer writes them.
  CHECK(payload_text.find("\"aud\"") < payload_text.find("\"exp\""));
  CHECK(payload_text.find("\"nbf\"") < payload_text.find("\"sub\""));

  // Optional parts appear only when set.
  TokenClaims secret_bound = SampleClaims();
  secret_bound.pod.reset();
  secret_bound.node.reset();
  secret_bound.secret = BoundObject{"Secret", "s", "secret-uid"};
  secret_bound.warn_after_s = kNow + 3607;
  secret_bound.id.clear();
  rapidjson::Document p2 = Parse(ClaimsToJson(secret_bound));
  CHECK_FALSE(p2.HasMember("jti"));
  CHECK(Keys(p2["kubernetes.io"]) ==
        std::set<std::string>{"namespace", "secret", "serviceaccount", "warnafter"});
  CHECK(p2["kubernetes.io"]["warnafter"].GetInt64() == kNow + 3607);
  Result<TokenClaims> back = ParseClaimsJson(ClaimsToJson(secret_bound));
  REQUIRE(back.ok());
  CHECK(*back == secret_bound);
}

TEST_CASE("tampered tokens are rejected") {
  std::string token = FixedSigner().Sign(SampleClaims());
  std::vector<std::string> parts = SplitDots(token);

  SECTION("payload changed") {
    TokenClaims other = SampleClaims();
    other.service_account_name = "admin";
    std::string forged = parts[0] + "." + B64(ClaimsToJson(other)) + "." + parts[2];
    CHECK_THAT(Rejection(forged), Catch::Contains("signature is invalid"));
  }
  SECTION("header changed") {
    std::string forged = B64(R"({"alg":"ES256"})") + "." + parts[1] + "." + parts[2];
    CHECK_THAT(Rejection(forged), Catch::Contains("signature is invalid"));
  }
  SECTION("signature bit flipped") {
    std::string sig = *Base64UrlDecode(parts[2]);
    sig[10] = static_cast<char>(sig[10] ^ 0x01);
    CHECK_THAT(Rejection(parts[0] + "." + parts[1] + "." + B64(sig)),
               Catch::Contains("signature is invalid"));
  }
  SECTION("signature truncated") {
    std::string sig = *Base64UrlDecode(parts[2]);
    CHECK_THAT(Rejection(parts[0] + "." + parts[1] + "." + B64(sig.substr(0, 63))),
               Catch::Contains("64"));
  }
  SECTION("signed by another key") {
    Result<TokenSigner> other = TokenSigner::FromPrivateKeyPem(NewKeyPem());
    REQUIRE(other.ok());
    // Its own kid does not match ours; with our kid it still fails on the signature.
    CHECK_THAT(Rejection(other->Sign(SampleClaims())), Catch::Contains("key id"));
    std::vector<std::string> op = SplitDots(other->Sign(SampleClaims()));
    CHECK_THAT(Rejection(B64(FixedHeader()) + "." + op[1] + "." + op[2]),
               Catch::Contains("signature is invalid"));
  }
}

TEST_CASE("algorithms other than ES256 are refused") {
  std::string payload = ClaimsToJson(SampleClaims());
  std::string body = B64(payload);

  SECTION("alg none, empty signature") {
    CHECK_FALSE(Rejection(B64(R"({"alg":"none"})") + "." + body + ".").empty());
  }
  SECTION("alg none, with a signature part") {
    CHECK_THAT(Rejection(B64(R"({"alg":"none"})") + "." + body + "." + B64("x")),
               Catch::Contains("\"none\""));
  }
  SECTION("HS256 keyed with the public key") {
    // The classic confusion attack: an HMAC whose key is the (public) verification key.
    std::string input = B64(R"({"alg":"HS256","typ":"JWT"})") + "." + body;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    std::string key = kFixedPublicPem;
    REQUIRE(HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
                 reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                 &mac_len));
    std::string token = input + "." + B64(std::string(reinterpret_cast<char*>(mac), mac_len));
    CHECK_THAT(Rejection(token), Catch::Contains("HS256"));
  }
  SECTION("ES256 with the same bytes, other names") {
    CHECK_FALSE(Rejection(SignRaw(R"({"alg":"es256"})", payload)).empty());
    CHECK_FALSE(Rejection(SignRaw(R"({"alg":"RS256"})", payload)).empty());
    CHECK_FALSE(Rejection(SignRaw(R"({"kid":"x"})", payload)).empty());
  }
  SECTION("critical header extensions") {
    CHECK_THAT(Rejection(SignRaw(R"({"alg":"ES256","crit":["exp"],"exp":1})", payload)),
               Catch::Contains("critical"));
  }
  SECTION("a well-formed ES256 token without kid is accepted") {
    CHECK(FixedVerifier().Verify(SignRaw(R"({"alg":"ES256"})", payload), kNow).ok());
  }
}

TEST_CASE("a DER-encoded ECDSA signature is not an ES256 signature") {
  std::string payload = ClaimsToJson(SampleClaims());
  std::string input = B64(FixedHeader()) + "." + B64(payload);
  // Sign with OpenSSL's native (DER) output, as a naive implementation would.
  Result<pki::PrivateKey> key = pki::PrivateKeyFromPem(kFixedKeyPem);
  REQUIRE(key.ok());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key->get()) == 1);
  size_t len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(input.data());
  REQUIRE(EVP_DigestSign(ctx, nullptr, &len, msg, input.size()) == 1);
  std::string der(len, '\0');
  REQUIRE(EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len, msg,
                         input.size()) == 1);
  der.resize(len);
  EVP_MD_CTX_free(ctx);
  REQUIRE(der.size() != 64);
  CHECK_THAT(Rejection(input + "." + B64(der)), Catch::Contains("64"));
}

TEST_CASE("issuer, audience and time window are enforced") {
  TokenSigner signer = FixedSigner();

  SECTION("wrong issuer") {
    TokenClaims c = SampleClaims();
    c.issuer = "https://evil.example";
    CHECK_THAT(Rejection(signer.Sign(c)), Catch::Contains("issuer"));
  }
  SECTION("no accepted audience") {
    TokenClaims c = SampleClaims();
    c.audiences = {"vault", "https://kubernetes.default.svc"};
    CHECK_THAT(Rejection(signer.Sign(c)), Catch::Contains("audience"));
  }
  SECTION("expired, with a 60-second leeway") {
    std::string token = signer.Sign(SampleClaims());  // exp = kNow + 3600
    CHECK(FixedVerifier().Verify(token, kNow + 3600 + 60).ok());
    CHECK_THAT(Rejection(token, kNow + 3600 + 61), Catch::Contains("expired"));
  }
  SECTION("not valid yet, with a 60-second leeway") {
    TokenClaims c = SampleClaims();
    c.not_before_s = kNow + 1000;
    c.issued_at_s = kNow;
    std::string token = signer.Sign(c);
    CHECK(FixedVerifier().Verify(token, kNow + 940).ok());
    CHECK_THAT(Rejection(token, kNow + 939), Catch::Contains("not valid yet"));
  }
  SECTION("issued in the future") {
    TokenClaims c = SampleClaims();
    c.issued_at_s = kNow + 500;
    CHECK_THAT(Rejection(signer.Sign(c)), Catch::Contains("issued in the future"));
  }
}

TEST_CASE("payloads missing required claims are rejected, naming the claim") {
  auto with = [](const std::string& edit_key, const char* replacement) {
    rapidjson::Document doc = Parse(ClaimsToJson(SampleClaims()));
    rapidjson::Value* target = &doc;
    std::string key = edit_key;
    if (key.rfind("k8s.", 0) == 0) {
      target = &doc["kubernetes.io"];
      key = key.substr(4);
    }
    json::RemoveMember(*target, key);
    if (replacement) {
      rapidjson::Document v = Parse(replacement);
      json::SetMember(*target, key, rapidjson::Value(v, doc.GetAllocator()), doc.GetAllocator());
    }
    return SignRaw(FixedHeader(), json::ToJson(doc));
  };
  CHECK_THAT(Rejection(with("exp", nullptr)), Catch::Contains("\"exp\""));
  CHECK_THAT(Rejection(with("iss", nullptr)), Catch::Contains("\"iss\""));
  CHECK_THAT(Rejection(with("aud", nullptr)), Catch::Contains("\"aud\""));
  CHECK_THAT(Rejection(with("aud", "[]")), Catch::Contains("\"aud\""));
  CHECK_THAT(Rejection(with("aud", "[1]")), Catch::Contains("\"aud\""));
  CHECK_THAT(Rejection(with("sub", nullptr)), Catch::Contains("\"sub\""));
  CHECK_THAT(Rejection(with("sub", R"("system:serviceaccount:kube-system:admin")")),
             Catch::Contains("subject"));
  CHECK_THAT(Rejection(with("kubernetes.io", nullptr)), Catch::Contains("kubernetes.io"));
  CHECK_THAT(Rejection(with("k8s.serviceaccount", nullptr)), Catch::Contains("serviceaccount"));
  CHECK_THAT(Rejection(with("k8s.serviceaccount", R"({"name":"builder"})")),
             Catch::Contains("serviceaccount.uid"));
  CHECK_THAT(Rejection(with("k8s.namespace", "7")), Catch::Contains("namespace"));
  CHECK_THAT(Rejection(with("exp", R"("tomorrow")")), Catch::Contains("\"exp\""));
  CHECK_THAT(Rejection(with("exp", "1e300")), Catch::Contains("\"exp\""));
  CHECK_THAT(Rejection(SignRaw(FixedHeader(), "[1,2]")), Catch::Contains("JSON object"));
  CHECK_THAT(Rejection(SignRaw(FixedHeader(), "not json")), Catch::Contains("JSON object"));
  // A decimal date is read as Go reads a NumericDate.
  Result<TokenClaims> decimal = FixedVerifier().Verify(with("exp", "1714561200.75"), kNow);
  REQUIRE(decimal.ok());
  CHECK(decimal->expires_at_s == kNow + 3600);
  // A single-string audience is allowed by RFC 7519.
  CHECK(FixedVerifier().Verify(with("aud", ("\"" + kIssuer + "\"").c_str()), kNow).ok());
}

TEST_CASE("truncated, garbage and huge tokens are rejected") {
  std::string token = FixedSigner().Sign(SampleClaims());
  for (const std::string& bad : std::vector<std::string>{
           "", ".", "..", "...", "a.b", "a.b.c", "a.b.c.d", token.substr(0, token.size() / 2),
           token.substr(0, token.rfind('.')), token.substr(0, token.rfind('.') + 1),
           token + ".", token + "x", "Bearer " + token, "{\"alg\":\"ES256\"}",
           std::string("\x00\xff\x01.\x02\x03.\x04", 7), "!!!!.????.####",
           B64("not json") + "." + SplitDots(token)[1] + "." + SplitDots(token)[2]}) {
    CAPTURE(bad);
    Rejection(bad);
  }
  std::string huge(kMaxTokenBytes + 1, 'a');
  huge[100] = '.';
  huge[200] = '.';
  CHECK_THAT(Rejection(huge), Catch::Contains("too large"));
  // A huge but well-formed token (many audiences) is refused before any decoding.
  TokenClaims big = SampleClaims();
  for (int i = 0; i < 2000; ++i) big.audiences.push_back("audience-" + std::to_string(i));
  CHECK_THAT(Rejection(FixedSigner().Sign(big)), Catch::Contains("too large"));
  // Deeply nested header JSON does not crash the parser.
  std::string deep(5000, '[');
  CHECK_FALSE(Rejection(B64(deep) + "." + SplitDots(token)[1] + "." + SplitDots(token)[2]).empty());
}

TEST_CASE("a service account's identity") {
  Identity id = ServiceAccountIdentity(SampleClaims());
  CHECK(id.user == "system:serviceaccount:default:builder");
  CHECK(id.uid == "11111111-2222-3333-4444-555555555555");
  CHECK(id.groups == std::vector<std::string>{"system:serviceaccounts",
                                              "system:serviceaccounts:default",
                                              "system:authenticated"});
  using Extra = std::map<std::string, std::vector<std::string>>;
  CHECK(id.extra == Extra{{"authentication.kubernetes.io/pod-name", {"web-0"}},
                          {"authentication.kubernetes.io/pod-uid", {"pod-uid-1"}},
                          {"authentication.kubernetes.io/node-name", {"node-a"}},
                          {"authentication.kubernetes.io/node-uid", {"node-uid-1"}},
                          {"authentication.kubernetes.io/credential-id",
                           {"JTI=6f1c7f3e-8a0b-4c59-9d2e-0123456789ab"}}});

  TokenClaims plain = SampleClaims();
  plain.pod.reset();
  plain.node = BoundObject{"Node", "node-b", ""};
  plain.id.clear();
  Identity p = ServiceAccountIdentity(plain);
  CHECK(p.extra == Extra{{"authentication.kubernetes.io/node-name", {"node-b"}}});
}

// ---------------------------------------------------------------------------------------
// TokenRequest

struct TokenRequestFixture {
  TokenSigner signer = FixedSigner();
  TokenRequestConfig config;
  rapidjson::Document sa = Parse(R"({"apiVersion":"v1","kind":"ServiceAccount",
      "metadata":{"name":"builder","namespace":"default","uid":"sa-uid-1"}})");
  rapidjson::Document pod = Parse(R"({"apiVersion":"v1","kind":"Pod",
      "metadata":{"name":"web-0","namespace":"default","uid":"pod-uid-1"},
      "spec":{"serviceAccountName":"builder","nodeName":"node-a"}})");
  rapidjson::Document node = Parse(R"({"apiVersion":"v1","kind":"Node",
      "metadata":{"name":"node-a","uid":"node-uid-1"}})");
  rapidjson::Document secret = Parse(R"({"apiVersion":"v1","kind":"Secret",
      "metadata":{"name":"s1","namespace":"default","uid":"secret-uid-1"}})");

  Result<TokenRequestResult> Create(std::string_view body_text,
                                    const rapidjson::Value* bound = nullptr,
                                    const rapidjson::Value* pod_node = nullptr) {
    rapidjson::Document body = Parse(body_text);
    TokenRequestInput in;
    in.namespace_name = "default";
    in.service_account_name = "builder";
    in.body = &body;
    in.service_account = &sa;
    in.bound_object = bound;
    in.bound_pod_node = pod_node;
    return CreateServiceAccountToken(in, signer, config, kNow);
  }
};

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest defaults and response") {
  Result<TokenRequestResult> r =
      Create(R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest",
                 "metadata":{"creationTimestamp":null},"spec":{}})");
  REQUIRE(r.ok());
  REQUIRE(r->causes.empty());
  CHECK(r->warnings.empty());
  const rapidjson::Value& out = r->response;
  CHECK(json::StringMember(out, "kind") == "TokenRequest");
  CHECK(json::StringMember(out, "apiVersion") == "authentication.k8s.io/v1");
  CHECK(json::StringMember(out["metadata"], "name") == "builder");
  CHECK(json::StringMember(out["metadata"], "namespace") == "default");
  CHECK(json::StringMember(out["metadata"], "creationTimestamp") == "2024-05-01T10:00:00Z");
  CHECK(out["spec"]["expirationSeconds"].GetInt64() == 3600);
  CHECK(json::ToJson(out["spec"]["audiences"]) == "[\"" + kIssuer + "\"]");
  CHECK(out["spec"]["boundObjectRef"].IsNull());
  CHECK(json::StringMember(out["status"], "expirationTimestamp") == "2024-05-01T11:00:00Z");

  std::string token(json::StringMember(out["status"], "token"));
  Result<TokenClaims> claims = FixedVerifier().Verify(token, kNow);
  REQUIRE(claims.ok());
  CHECK(claims->namespace_name == "default");
  CHECK(claims->service_account_name == "builder");
  CHECK(claims->service_account_uid == "sa-uid-1");
  CHECK(claims->expires_at_s == kNow + 3600);
  CHECK(claims->issued_at_s == kNow);
  CHECK(claims->not_before_s == kNow);
  CHECK(claims->id.size() == 36);
  CHECK_FALSE(claims->pod);
  CHECK(*claims == r->claims);

  // An empty body is a valid request too; a second token has a different jti.
  Result<TokenRequestResult> bare = Create("{}");
  REQUIRE(bare.ok());
  REQUIRE(bare->causes.empty());
  CHECK(bare->claims.id != r->claims.id);
}

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest honours audiences and expiration") {
  Result<TokenRequestResult> r =
      Create(R"({"spec":{"audiences":["vault","nats"],"expirationSeconds":7200}})");
  REQUIRE(r.ok());
  REQUIRE(r->causes.empty());
  CHECK(r->claims.audiences == std::vector<std::string>{"vault", "nats"});
  CHECK(r->claims.expires_at_s == kNow + 7200);
  CHECK(json::StringMember(r->response["status"], "expirationTimestamp") ==
        "2024-05-01T12:00:00Z");
  // The API server does not accept a token meant for others.
  std::string token(json::StringMember(r->response["status"], "token"));
  CHECK_FALSE(FixedVerifier().Verify(token, kNow).ok());
  CHECK(FixedVerifier({"nats"}).Verify(token, kNow).ok());
}

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest validation causes") {
  SECTION("too short") {
    Result<TokenRequestResult> r = Create(R"({"spec":{"expirationSeconds":599}})");
    REQUIRE(r.ok());
    REQUIRE(r->causes.size() == 1);
    CHECK(r->causes[0].field == "spec.expirationSeconds");
    CHECK(r->causes[0].reason == "FieldValueInvalid");
    CHECK_THAT(r->causes[0].message, Catch::Contains("599") &&
                                         Catch::Contains("may not specify a duration less than 10 minutes"));
    CHECK(r->invalid_name.empty());
    CHECK(r->response.IsNull());
  }
  SECTION("the minimum is allowed") {
    Result<TokenRequestResult> r = Create(R"({"spec":{"expirationSeconds":600}})");
    REQUIRE(r.ok());
    CHECK(r->causes.empty());
  }
  SECTION("too long") {
    Result<TokenRequestResult> r = Create(R"({"spec":{"expirationSeconds":4294967297}})");
    REQUIRE(r.ok());
    REQUIRE(r->causes.size() == 1);
    CHECK_THAT(r->causes[0].message, Catch::Contains("larger than 2^32 seconds"));
  }
  SECTION("name must match the URL") {
    Result<TokenRequestResult> r = Create(R"({"metadata":{"name":"other"}})");
    REQUIRE(r.ok());
    REQUIRE(r->causes.size() == 1);
    CHECK(r->causes[0].field == "metadata.name");
    CHECK_THAT(r->causes[0].message, Catch::Contains("must match the service account name"));
    CHECK(r->invalid_name == "builder");
  }
  SECTION("namespace must match the URL") {
    Result<TokenRequestResult> r = Create(R"({"metadata":{"namespace":"kube-system"}})");
    REQUIRE(r.ok());
    REQUIRE(r->causes.size() == 1);
    CHECK(r->causes[0].field == "metadata.namespace");
  }
  SECTION("malformed bodies are bad requests") {
    for (const char* body : {R"([])", R"({"spec":{"expirationSeconds":"3600"}})",
                             R"({"spec":{"expirationSeconds":3600.5}})",
                             R"({"spec":{"audiences":"x"}})", R"({"spec":{"audiences":[1]}})",
                             R"({"spec":[]})", R"({"kind":"Pod"})",
                             R"({"spec":{"boundObjectRef":{"kind":"Pod"}}})",
                             R"({"spec":{"boundObjectRef":"web-0"}})"}) {
      CAPTURE(body);
      Result<TokenRequestResult> r = Create(body);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == StatusCode::kInvalidArgument);
    }
  }
}

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest binds to a pod and its node") {
  const char* body = R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0"}}})";
  Result<std::optional<BoundObjectRef>> ref = TokenRequestBoundObject(Parse(body));
  REQUIRE(ref.ok());
  REQUIRE(ref->has_value());
  CHECK((*ref)->resource == "pods");
  CHECK((*ref)->name == "web-0");

  Result<TokenRequestResult> r = Create(body, &pod, &node);
  REQUIRE(r.ok());
  REQUIRE(r->causes.empty());
  CHECK(r->claims.pod == std::optional<BoundObject>(BoundObject{"Pod", "web-0", "pod-uid-1"}));
  CHECK(r->claims.node == std::optional<BoundObject>(BoundObject{"Node", "node-a", "node-uid-1"}));
  CHECK(json::ToJson(r->response["spec"]["boundObjectRef"]) ==
        R"({"kind":"Pod","apiVersion":"v1","name":"web-0"})");
  Result<TokenClaims> verified =
      FixedVerifier().Verify(json::StringMember(r->response["status"], "token"), kNow);
  REQUIRE(verified.ok());
  Identity id = ServiceAccountIdentity(*verified);
  CHECK(id.extra["authentication.kubernetes.io/pod-name"] == std::vector<std::string>{"web-0"});
  CHECK(id.extra["authentication.kubernetes.io/node-uid"] ==
        std::vector<std::string>{"node-uid-1"});
  CHECK(id.extra["authentication.kubernetes.io/credential-id"] ==
        std::vector<std::string>{"JTI=" + verified->id});

  // The pod's Node is gone: its name stays in the claims, without a uid.
  Result<TokenRequestResult> no_node = Create(body, &pod, nullptr);
  REQUIRE(no_node.ok());
  CHECK(no_node->claims.node == std::optional<BoundObject>(BoundObject{"Node", "node-a", ""}));
}

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest bound-object errors") {
  SECTION("the object does not exist") {
    Result<TokenRequestResult> r =
        Create(R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"gone"}}})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kNotFound);
    CHECK(r.status().message() == "pods \"gone\" not found");
  }
  SECTION("uid mismatch is a conflict") {
    Result<TokenRequestResult> r = Create(
        R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0","uid":"old"}}})",
        &pod, &node);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kConflict);
    CHECK_THAT(r.status().message(),
               Catch::StartsWith("the UID in the bound object reference (old) does not match"));
  }
  SECTION("matching uid is fine") {
    Result<TokenRequestResult> r = Create(
        R"({"spec":{"boundObjectRef":{"kind":"Secret","apiVersion":"v1","name":"s1","uid":"secret-uid-1"}}})",
        &secret);
    REQUIRE(r.ok());
    CHECK(r->claims.secret == std::optional<BoundObject>(BoundObject{"Secret", "s1", "secret-uid-1"}));
    CHECK_FALSE(r->claims.pod);
  }
  SECTION("a pod running as another service account") {
    rapidjson::Document other = Parse(R"({"metadata":{"name":"web-0","uid":"pod-uid-1"},
                                          "spec":{"serviceAccountName":"default"}})");
    Result<TokenRequestResult> r =
        Create(R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0"}}})",
               &other);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::Contains("different serviceaccount name"));
  }
  SECTION("unsupported kinds") {
    Result<TokenRequestResult> r =
        Create(R"({"spec":{"boundObjectRef":{"kind":"ConfigMap","apiVersion":"v1","name":"c"}}})");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message() == "cannot bind token to object of type /v1, Kind=ConfigMap");
    Result<TokenRequestResult> apps = Create(
        R"({"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"apps/v1","name":"p"}}})");
    REQUIRE_FALSE(apps.ok());
    CHECK(apps.status().message() == "cannot bind token to object of type apps/v1, Kind=Pod");
  }
  SECTION("node binding") {
    Result<TokenRequestResult> r = Create(
        R"({"spec":{"boundObjectRef":{"kind":"Node","apiVersion":"v1","name":"node-a"}}})", &node);
    REQUIRE(r.ok());
    CHECK(r->claims.node == std::optional<BoundObject>(BoundObject{"Node", "node-a", "node-uid-1"}));
    CHECK_FALSE(r->claims.pod);
  }
}

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest caps and extends expiration as Kubernetes does") {
  SECTION("capped to the server maximum, with a warning") {
    config.max_expiration_seconds = 7200;
    Result<TokenRequestResult> r = Create(R"({"spec":{"expirationSeconds":86400}})");
    REQUIRE(r.ok());
    CHECK(r->response["spec"]["expirationSeconds"].GetInt64() == 7200);
    CHECK(r->claims.expires_at_s == kNow + 7200);
    REQUIRE(r->warnings.size() == 1);
    CHECK(r->warnings[0] == "requested expiration of 86400 seconds shortened to 7200 seconds");
  }
  SECTION("kubelet's 3607-second pod tokens are extended to a year with warnafter") {
    Result<TokenRequestResult> r = Create(
        R"({"spec":{"expirationSeconds":3607,
                    "boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0"}}})",
        &pod, &node);
    REQUIRE(r.ok());
    CHECK(r->claims.expires_at_s == kNow + kExtendedTokenExpirationSeconds);
    CHECK(r->claims.warn_after_s == kNow + 3607);
    CHECK(json::StringMember(r->response["status"], "expirationTimestamp") ==
          FormatRfc3339(kNow + 3607));
    // Not for tokens meant for other audiences, nor unbound ones, nor when disabled.
    Result<TokenRequestResult> other = Create(
        R"({"spec":{"expirationSeconds":3607,"audiences":["vault"],
                    "boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0"}}})",
        &pod, &node);
    REQUIRE(other.ok());
    CHECK(other->claims.expires_at_s == kNow + 3607);
    CHECK(other->claims.warn_after_s == 0);
    Result<TokenRequestResult> unbound = Create(R"({"spec":{"expirationSeconds":3607}})");
    REQUIRE(unbound.ok());
    CHECK(unbound->claims.expires_at_s == kNow + 3607);
    config.extend_expiration = false;
    Result<TokenRequestResult> off = Create(
        R"({"spec":{"expirationSeconds":3607,
                    "boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"web-0"}}})",
        &pod, &node);
    REQUIRE(off.ok());
    CHECK(off->claims.expires_at_s == kNow + 3607);
  }
}

TEST_CASE_METHOD(TokenRequestFixture, "TokenRequest without the service account is not found") {
  rapidjson::Document body = Parse("{}");
  TokenRequestInput in;
  in.namespace_name = "default";
  in.service_account_name = "ghost";
  in.body = &body;
  Result<TokenRequestResult> r = CreateServiceAccountToken(in, signer, config, kNow);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK(r.status().message() == "serviceaccounts \"ghost\" not found");
}

// ---------------------------------------------------------------------------------------
// Bootstrap tokens

TEST_CASE("bootstrap tokens parse only in their exact form") {
  std::optional<BootstrapToken> t = ParseBootstrapToken("abcdef.0123456789abcdef");
  REQUIRE(t);
  CHECK(t->id == "abcdef");
  CHECK(t->secret == "0123456789abcdef");
  CHECK(t->ToString() == "abcdef.0123456789abcdef");
  for (const char* bad : {"", "abcdef", "abcdef.", "abcdef.0123456789abcde",
                          "abcdef.0123456789abcdef0", "abcde.0123456789abcdefg",
                          "ABCDEF.0123456789abcdef", "abcdef:0123456789abcdef",
                          "abcdef.0123456789abcdeF", "abc-ef.0123456789abcdef",
                          " abcdef.0123456789abcdef", "abcdef.0123456789abcdef\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseBootstrapToken(bad));
  }
  CHECK(BootstrapSecretName("abcdef") == "bootstrap-token-abcdef");
}

TEST_CASE("bootstrap extra group names") {
  CHECK(ValidateBootstrapGroupName("system:bootstrappers:kubeadm:default-node-token").ok());
  CHECK(ValidateBootstrapGroupName("system:bootstrappers:a").ok());
  CHECK(ValidateBootstrapGroupName("system:bootstrappers:" + std::string(256, 'a')).ok());
  CHECK_FALSE(ValidateBootstrapGroupName("system:bootstrappers:" + std::string(257, 'a')).ok());
  CHECK_FALSE(ValidateBootstrapGroupName("system:bootstrappers:").ok());
  CHECK_FALSE(ValidateBootstrapGroupName("system:bootstrappers:x-").ok());
  CHECK_FALSE(ValidateBootstrapGroupName("system:bootstrappers:X").ok());
  CHECK_FALSE(ValidateBootstrapGroupName("system:masters").ok());
  CHECK_FALSE(ValidateBootstrapGroupName("system:bootstrappers:a b").ok());
}

struct BootstrapFixture {
  BootstrapToken token{"abcdef", "0123456789abcdef"};
  rapidjson::Document secret;

  BootstrapFixture() {
    BootstrapTokenOptions options;
    options.description = "join token";
    options.ttl_seconds = 3600;
    options.extra_groups = {"system:bootstrappers:kubeadm:default-node-token",
                            "system:bootstrappers:a-team"};
    Result<rapidjson::Document> s = BootstrapTokenSecret(token, options, kNow);
    REQUIRE(s.ok());
    secret = std::move(s).value();
  }

  void SetData(std::string_view key, std::string_view value) {
    json::SetStringMember(secret["data"], key, Base64Encode(value), secret.GetAllocator());
  }

  std::string Failure(int64_t now = kNow) {
    Result<Identity> r = AuthenticateBootstrapToken(token, &secret, now);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find(token.secret) == std::string::npos);
    return r.status().message();
  }
};

TEST_CASE_METHOD(BootstrapFixture, "the bootstrap token Secret has Kubernetes' shape") {
  CHECK(json::StringMember(secret, "apiVersion") == "v1");
  CHECK(json::StringMember(secret, "kind") == "Secret");
  CHECK(json::StringMember(secret["metadata"], "name") == "bootstrap-token-abcdef");
  CHECK(json::StringMember(secret["metadata"], "namespace") == "kube-system");
  CHECK(json::StringMember(secret, "type") == "bootstrap.kubernetes.io/token");
  const rapidjson::Value& data = secret["data"];
  CHECK(Keys(data) == std::set<std::string>{"auth-extra-groups", "description", "expiration",
                                            "token-id", "token-secret",
                                            "usage-bootstrap-authentication",
                                            "usage-bootstrap-signing"});
  auto decoded = [&](const char* key) { return *Base64Decode(json::StringMember(data, key)); };
  CHECK(decoded("token-id") == "abcdef");
  CHECK(decoded("token-secret") == "0123456789abcdef");
  CHECK(decoded("expiration") == "2024-05-01T11:00:00Z");
  CHECK(decoded("usage-bootstrap-authentication") == "true");
  CHECK(decoded("auth-extra-groups") ==
        "system:bootstrappers:kubeadm:default-node-token,system:bootstrappers:a-team");
  CHECK(decoded("description") == "join token");

  BootstrapTokenOptions bad;
  bad.extra_groups = {"system:masters"};
  CHECK_FALSE(BootstrapTokenSecret(token, bad, kNow).ok());
  CHECK_FALSE(BootstrapTokenSecret(BootstrapToken{"ABCDEF", "0123456789abcdef"}, {}, kNow).ok());
  BootstrapTokenOptions forever;
  forever.ttl_seconds = 0;
  Result<rapidjson::Document> no_exp = BootstrapTokenSecret(token, forever, kNow);
  REQUIRE(no_exp.ok());
  CHECK_FALSE((*no_exp)["data"].HasMember("expiration"));
}

TEST_CASE_METHOD(BootstrapFixture, "a bootstrap token authenticates against its Secret") {
  std::optional<BootstrapToken> parsed = ParseBootstrapToken("abcdef.0123456789abcdef");
  REQUIRE(parsed);
  Result<Identity> id = AuthenticateBootstrapToken(*parsed, &secret, kNow);
  REQUIRE(id.ok());
  CHECK(id->user == "system:bootstrap:abcdef");
  CHECK(id->uid.empty());
  CHECK(id->groups == std::vector<std::string>{"system:bootstrappers",
                                               "system:bootstrappers:a-team",
                                               "system:bootstrappers:kubeadm:default-node-token",
                                               "system:authenticated"});
  // Valid up to and including the expiration instant.
  CHECK(AuthenticateBootstrapToken(token, &secret, kNow + 3600).ok());
  // Round trip through stored JSON text.
  rapidjson::Document stored = Parse(json::ToJson(secret));
  CHECK(AuthenticateBootstrapToken(token, &stored, kNow).ok());
}

TEST_CASE_METHOD(BootstrapFixture, "bootstrap token failures") {
  SECTION("expired") { CHECK_THAT(Failure(kNow + 3601), Catch::Contains("expired")); }
  SECTION("unparsable expiration counts as expired") {
    SetData("expiration", "next week");
    CHECK_THAT(Failure(), Catch::Contains("expiration"));
  }
  SECTION("no expiration never expires") {
    json::RemoveMember(secret["data"], "expiration");
    CHECK(AuthenticateBootstrapToken(token, &secret, kNow + int64_t{100} * 365 * 86400).ok());
  }
  SECTION("wrong secret") {
    token.secret = "0123456789abcdee";
    CHECK_THAT(Failure(), Catch::Contains("token-secret"));
  }
  SECTION("token-id does not match") {
    SetData("token-id", "zzzzzz");
    CHECK_THAT(Failure(), Catch::Contains("token-id"));
  }
  SECTION("wrong type") {
    json::SetStringMember(secret, "type", "Opaque", secret.GetAllocator());
    CHECK_THAT(Failure(), Catch::Contains("type"));
  }
  SECTION("usage not true") {
    SetData("usage-bootstrap-authentication", "false");
    CHECK_THAT(Failure(), Catch::Contains("usage-bootstrap-authentication"));
  }
  SECTION("usage absent") {
    json::RemoveMember(secret["data"], "usage-bootstrap-authentication");
    CHECK_THAT(Failure(), Catch::Contains("usage-bootstrap-authentication"));
  }
  SECTION("bad extra group") {
    SetData("auth-extra-groups", "system:bootstrappers:ok,system:masters");
    CHECK_THAT(Failure(), Catch::Contains("auth-extra-groups") && Catch::Contains("system:masters"));
  }
  SECTION("empty extra group entry") {
    SetData("auth-extra-groups", "system:bootstrappers:ok,");
    CHECK_THAT(Failure(), Catch::Contains("auth-extra-groups"));
  }
  SECTION("being deleted") {
    json::SetStringMember(secret["metadata"], "deletionTimestamp", "2024-05-01T09:00:00Z",
                          secret.GetAllocator());
    CHECK_THAT(Failure(), Catch::Contains("deleted"));
  }
  SECTION("data not base64") {
    json::SetStringMember(secret["data"], "token-secret", "%%%", secret.GetAllocator());
    CHECK_THAT(Failure(), Catch::Contains("token-secret"));
  }
  SECTION("no Secret") {
    Result<Identity> r = AuthenticateBootstrapToken(token, nullptr, kNow);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("not found"));
  }
}

TEST_CASE("generated bootstrap tokens are well formed and distinct") {
  Result<BootstrapToken> a = GenerateBootstrapToken();
  Result<BootstrapToken> b = GenerateBootstrapToken();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(ParseBootstrapToken(a->ToString()) == std::optional<BootstrapToken>(*a));
  CHECK_FALSE(*a == *b);
  Result<rapidjson::Document> s = BootstrapTokenSecret(*a, {}, kNow);
  REQUIRE(s.ok());
  Result<Identity> id = AuthenticateBootstrapToken(*a, &*s, kNow);
  REQUIRE(id.ok());
  CHECK(id->user == "system:bootstrap:" + a->id);
  CHECK_FALSE(AuthenticateBootstrapToken(*b, &*s, kNow).ok());
}

}  // namespace
}  // namespace kite::authn
