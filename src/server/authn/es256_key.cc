#include "src/server/authn/es256_key.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits>

#include "src/base/base64.h"
#include "src/base/openssl_errors.h"

namespace kite::authn {
namespace {

constexpr size_t kCoordinateBytes = 32;  // P-256 field elements

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
using Bn = std::unique_ptr<BIGNUM, BnDeleter>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using Sig = std::unique_ptr<ECDSA_SIG, SigDeleter>;

Bio MemBio(std::string_view pem) {
  if (pem.size() > static_cast<size_t>(std::numeric_limits<int>::max())) return nullptr;
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Reads the PEM's first private key, or nullptr.
EVP_PKEY* ReadPrivate(std::string_view pem) {
  Bio bio = MemBio(pem);
  if (!bio) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  return key;
}

EVP_PKEY* ReadPublic(std::string_view pem) {
  Bio bio = MemBio(pem);
  if (!bio) return nullptr;
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  return key;
}

bool IsP256(EVP_PKEY* key) {
  if (!EVP_PKEY_is_a(key, "EC")) return false;
  char group[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                     &len) != 1) {
    ERR_clear_error();
    return false;
  }
  std::string_view name(group, len);
  return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

Result<std::string> Coordinate(EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) {
    return InternalError(std::string("read EC public key: ") + TakeOpenSslErrors());
  }
  Bn bn(raw);
  std::string out(kCoordinateBytes, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   static_cast<int>(out.size())) < 0) {
    return InternalError("EC coordinate does not fit 32 bytes");
  }
  return out;
}

Result<std::string> Sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1) {
    return InternalError("SHA-256: " + TakeOpenSslErrors());
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace

Result<Es256Key> Es256Key::FromPrivateKeyPem(std::string_view pem) {
  EVP_PKEY* key = ReadPrivate(pem);
  if (!key) return InvalidArgumentError("no PEM private key found");
  return FromKey(key, /*has_private=*/true);
}

Result<Es256Key> Es256Key::FromPublicKeyPem(std::string_view pem) {
  if (EVP_PKEY* key = ReadPublic(pem)) return FromKey(key, /*has_private=*/false);
  if (EVP_PKEY* key = ReadPrivate(pem)) {
    Result<Es256Key> full = FromKey(key, /*has_private=*/true);
    if (!full.ok()) return full.status();
    // Keep only the public half: a verifier has no use for the private scalar.
    return FromPublicKeyPem(full->public_key_pem());
  }
  return InvalidArgumentError("no PEM public key found");
}

Result<Es256Key> Es256Key::FromKey(EVP_PKEY* raw, bool has_private) {
  Es256Key k;
  k.key_.reset(raw);
  k.has_private_ = has_private;
  if (!IsP256(raw)) return InvalidArgumentError("the key is not an ECDSA P-256 key (ES256)");
  // Go's x509.MarshalPKIXPublicKey writes the point uncompressed; the key id hashes that DER,
  // so a key read in compressed form must be re-encoded the same way.
  if (EVP_PKEY_set_utf8_string_param(raw, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     "uncompressed") != 1) {
    return InternalError("set EC point format: " + TakeOpenSslErrors());
  }

  unsigned char* der = nullptr;
  int der_len = i2d_PUBKEY(raw, &der);
  if (der_len <= 0) return InternalError("encode public key: " + TakeOpenSslErrors());
  std::string spki(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  Result<std::string> digest = Sha256(spki);
  if (!digest.ok()) return digest.status();
  k.key_id_ = Base64UrlEncode(*digest);

  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), raw) != 1) {
    return InternalError("PEM-encode public key: " + TakeOpenSslErrors());
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  k.public_pem_.assign(data, static_cast<size_t>(len));

  Result<std::string> x = Coordinate(raw, OSSL_PKEY_PARAM_EC_PUB_X);
  if (!x.ok()) return x.status();
  Result<std::string> y = Coordinate(raw, OSSL_PKEY_PARAM_EC_PUB_Y);
  if (!y.ok()) return y.status();
  // Member order as go-jose writes a JWK. The key id and coordinates are base64url text,
  // which needs no JSON escaping.
  k.jwk_json_ = R"({"use":"sig","kty":"EC","kid":")" + k.key_id_ +
                R"(","crv":"P-256","alg":"ES256","x":")" + Base64UrlEncode(*x) + R"(","y":")" +
                Base64UrlEncode(*y) + R"("})";
  return k;
}

Result<std::string> Es256Key::Sign(std::string_view message) const {
  if (!has_private_) return InternalError("ES256 signing needs a private key");
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return InternalError("ES256 sign init: " + TakeOpenSslErrors());
  }
  size_t der_len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &der_len, msg, message.size()) != 1) {
    return InternalError("ES256 sign: " + TakeOpenSslErrors());
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len, msg,
                     message.size()) != 1) {
    return InternalError("ES256 sign: " + TakeOpenSslErrors());
  }
  // OpenSSL yields a DER SEQUENCE{r, s}; JWS wants r and s as fixed 32-byte big-endian.
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  Sig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return InternalError("decode ECDSA signature: " + TakeOpenSslErrors());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kCoordinateBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kCoordinateBytes) < 0 ||
      BN_bn2binpad(s, out + kCoordinateBytes, kCoordinateBytes) < 0) {
    return InternalError("ECDSA signature does not fit 64 bytes");
  }
  return raw;
}

bool Es256Key::Verify(std::string_view message, std::string_view signature) const {
  // Exactly r||s: a DER signature (or any other length) is not an ES256 JWS signature.
  if (signature.size() != 2 * kCoordinateBytes) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  Bn r(BN_bin2bn(raw, kCoordinateBytes, nullptr));
  Bn s(BN_bin2bn(raw + kCoordinateBytes, kCoordinateBytes, nullptr));
  Sig sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) {
    ERR_clear_error();
    return false;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  bool ok = ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), der, static_cast<size_t>(der_len),
                             reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  return ok;
}

}  // namespace kite::authn
