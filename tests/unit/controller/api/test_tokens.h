#pragma once

// Test-side token makers: JWTs signed with libjwt (HS256, RS256), hand-made `alg: none` tokens,
// RSA key pairs from OpenSSL, and an Authenticator with one static token per role.

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "controller/api/auth/authenticator.h"
#include "controller/api/auth/base64url.h"
#include "controller/api/auth/token_file.h"

namespace noa::testing {

inline constexpr const char* kHsSecret = "0123456789abcdef0123456789abcdef-test-secret";

struct RsaKeyPair {
  std::string private_pem;
  std::string public_pem;
};

inline RsaKeyPair makeRsaKeyPair() {
  RsaKeyPair out;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  auto dump = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
  };
  out.private_pem = dump([&](BIO* b) {
    PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  out.public_pem = dump([&](BIO* b) { PEM_write_bio_PUBKEY(b, key.get()); });
  return out;
}

// Signs `claims` with libjwt. `key` is the HS256 secret or the RS256 private key PEM.
inline std::string signJwt(jwt_alg_t alg, const std::string& key, const nlohmann::json& claims) {
  jwt_t* raw = nullptr;
  jwt_new(&raw);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  jwt_add_grants_json(jwt.get(), claims.dump().c_str());
  jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* encoded = jwt_encode_str(jwt.get());
  std::string out = encoded ? encoded : "";
  free(encoded);  // NOLINT: allocated by libjwt with malloc
  return out;
}

// An unsigned token: {"alg":"none"} header, the claims, an empty signature.
inline std::string unsignedJwt(const nlohmann::json& claims, const std::string& alg = "none") {
  using controller::api::base64UrlEncode;
  return base64UrlEncode(nlohmann::json({{"alg", alg}, {"typ", "JWT"}}).dump()) + "." +
         base64UrlEncode(claims.dump()) + ".";
}

// Claims valid around `now_s` (unix seconds).
inline nlohmann::json claimsFor(const std::string& sub, const std::string& role, int64_t now_s) {
  return {{"sub", sub}, {"role", role}, {"iat", now_s}, {"exp", now_s + 600}};
}

// Static tokens "viewer-token", "operator-token", "admin-token" named v, o, a, plus HS256 JWTs.
inline std::shared_ptr<controller::api::Authenticator> makeTestAuthenticator() {
  using namespace controller::api;
  std::vector<StaticToken> tokens = {
      {"v", Role::kViewer, sha256("viewer-token")},
      {"o", Role::kOperator, sha256("operator-token")},
      {"a", Role::kAdmin, sha256("admin-token")},
  };
  JwtOptions options;
  options.hs256_secret = kHsSecret;
  auto jwt = JwtVerifier::create(options);
  return std::make_shared<Authenticator>(std::move(tokens), std::move(jwt).value());
}

}  // namespace noa::testing
