#pragma once

// Verifies bearer JWTs (RFC 7519) with libjwt: HS256 with a shared secret and/or RS256 with a
// PEM public key. Claims: `sub` (the actor, required), `role` (viewer | operator | admin,
// required), `exp` (required), `nbf` (honoured), `iss` / `aud` when configured; `leeway` of
// clock skew is allowed on exp and nbf.
//
// The token's header `alg` must be exactly one configured algorithm before any signature is
// checked: `none` is always refused, and an HS256 token is refused when only RS256 is configured,
// so the RSA public key can never be used as an HMAC secret (alg confusion). libjwt 1.10 checks
// signatures only; the claims are read here from the payload it has verified.
//
// Thread-safe: verify() is const and libjwt keeps no shared state per call.

#include <chrono>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "controller/api/auth/roles.h"

namespace noa::controller::api {

struct JwtOptions {
  std::string hs256_secret;          // empty = HS256 not accepted
  std::string rs256_public_key_pem;  // empty = RS256 not accepted
  std::string issuer;                // non-empty = `iss` must equal it
  std::string audience;              // non-empty = `aud` (string or array) must contain it
  std::chrono::seconds leeway{30};
};

class JwtVerifier {
 public:
  // InvalidArgument when neither key is set, the HS256 secret is shorter than 32 bytes (RFC 7518
  // 3.2: at least the hash size) or the RS256 key is not a PEM RSA public key.
  static Result<JwtVerifier> create(JwtOptions options);

  // The caller, or Unauthenticated saying why (never quoting the token).
  Result<Caller> verify(std::string_view token, WallTime now) const;

  bool acceptsHs256() const { return !options_.hs256_secret.empty(); }
  bool acceptsRs256() const { return !options_.rs256_public_key_pem.empty(); }

 private:
  explicit JwtVerifier(JwtOptions options) : options_(std::move(options)) {}
  JwtOptions options_;
};

}  // namespace noa::controller::api
