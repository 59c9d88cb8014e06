#include "controller/api/auth/jwt_verifier.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "controller/api/auth/base64url.h"

namespace noa::controller::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxTokenBytes = 8192;

Status unauthenticated(std::string why) { return Status::Unauthenticated(std::move(why)); }

std::optional<json> decodeSegment(std::string_view segment) {
  auto bytes = base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  json parsed = json::parse(*bytes, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

bool isRsaPublicKey(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return false;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  return key != nullptr && EVP_PKEY_base_id(key.get()) == EVP_PKEY_RSA;
}

// A NumericDate: a JSON number of seconds (fractions allowed).
std::optional<double> numericDate(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end() || !it->is_number()) return std::nullopt;
  const double value = it->get<double>();
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

Result<JwtVerifier> JwtVerifier::create(JwtOptions options) {
  if (options.hs256_secret.empty() && options.rs256_public_key_pem.empty()) {
    return Status::InvalidArgument("JWT needs an HS256 secret or an RS256 public key");
  }
  if (!options.hs256_secret.empty() && options.hs256_secret.size() < 32) {
    return Status::InvalidArgument("the JWT HS256 secret must be at least 32 bytes");
  }
  if (!options.rs256_public_key_pem.empty() && !isRsaPublicKey(options.rs256_public_key_pem)) {
    return Status::InvalidArgument("the JWT RS256 key is not a PEM RSA public key");
  }
  return JwtVerifier(std::move(options));
}

Result<Caller> JwtVerifier::verify(std::string_view token, WallTime now) const {
  if (token.size() > kMaxTokenBytes) return unauthenticated("token too long");
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return unauthenticated("malformed token");
  }
  const auto header = decodeSegment(token.substr(0, dot1));
  if (!header) return unauthenticated("malformed token header");
  const auto alg_it = header->find("alg");
  const std::string alg =
      alg_it != header->end() && alg_it->is_string() ? alg_it->get<std::string>() : "";
  const std::string* key = nullptr;
  jwt_alg_t expected = JWT_ALG_INVAL;
  if (alg == "HS256" && acceptsHs256()) {
    key = &options_.hs256_secret;
    expected = JWT_ALG_HS256;
  } else if (alg == "RS256" && acceptsRs256()) {
    key = &options_.rs256_public_key_pem;
    expected = JWT_ALG_RS256;
  } else {
    std::string shown = alg.size() <= 16 ? alg : alg.substr(0, 16) + "...";
    return unauthenticated("token algorithm '" + shown + "' is not accepted");
  }

  const std::string text(token);
  jwt_t* raw = nullptr;
  const int rc = jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key->data()),
                            static_cast<int>(key->size()));
  std::unique_ptr<jwt_t, decltype(&jwt_free)> decoded(raw, &jwt_free);
  if (rc != 0 || decoded == nullptr || jwt_get_alg(decoded.get()) != expected) {
    return unauthenticated("bad token signature");
  }

  // The signature covers these bytes, so reading them ourselves is as safe as through libjwt.
  const auto claims = decodeSegment(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return unauthenticated("malformed token claims");
  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(options_.leeway.count());
  const auto exp = numericDate(*claims, "exp");
  if (!exp) return unauthenticated("token has no 'exp' claim");
  if (now_s > *exp + leeway) return unauthenticated("token expired");
  if (claims->contains("nbf")) {
    const auto nbf = numericDate(*claims, "nbf");
    if (!nbf) return unauthenticated("token 'nbf' claim is not a number");
    if (now_s + leeway < *nbf) return unauthenticated("token not valid yet");
  }
  if (!options_.issuer.empty()) {
    auto iss = claims->find("iss");
    if (iss == claims->end() || !iss->is_string() || iss->get<std::string>() != options_.issuer) {
      return unauthenticated("token issuer not accepted");
    }
  }
  if (!options_.audience.empty()) {
    bool found = false;
    auto aud = claims->find("aud");
    if (aud != claims->end() && aud->is_string())
      found = aud->get<std::string>() == options_.audience;
    if (aud != claims->end() && aud->is_array()) {
      for (const json& a : *aud)
        found = found || (a.is_string() && a.get<std::string>() == options_.audience);
    }
    if (!found) return unauthenticated("token audience not accepted");
  }
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string() || sub->get<std::string>().empty() ||
      sub->get<std::string>().size() > 128) {
    return unauthenticated("token has no valid 'sub' claim");
  }
  auto role_claim = claims->find("role");
  if (role_claim == claims->end() || !role_claim->is_string()) {
    return unauthenticated("token has no 'role' claim");
  }
  auto role = parseTokenRole(role_claim->get<std::string>());
  if (!role.ok()) return unauthenticated("token 'role' must be viewer, operator or admin");
  return Caller{sub->get<std::string>(), *role, AuthKind::kJwt};
}

}  // namespace noa::controller::api
