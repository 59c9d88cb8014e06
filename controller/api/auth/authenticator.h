#pragma once

// Turns an `Authorization: Bearer ...` header into a Caller. A token with two dots is a JWT
// (checked by JwtVerifier); anything else is looked up among the static tokens. Built once at
// start from the config; immutable and thread-safe afterwards.

#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/api/auth/jwt_verifier.h"
#include "controller/api/auth/roles.h"
#include "controller/api/auth/token_file.h"

namespace noa::controller::api {

class Authenticator {
 public:
  // At least one source must be given (the controller checks that before).
  Authenticator(std::vector<StaticToken> static_tokens, std::optional<JwtVerifier> jwt)
      : static_tokens_(std::move(static_tokens)), jwt_(std::move(jwt)) {}

  // Unauthenticated (no header, not Bearer, unknown token, bad or expired JWT), with a reason
  // that never contains the token.
  Result<Caller> authenticate(std::string_view authorization, WallTime now) const;

  size_t staticTokenCount() const { return static_tokens_.size(); }
  bool acceptsJwt() const { return jwt_.has_value(); }

 private:
  std::vector<StaticToken> static_tokens_;
  std::optional<JwtVerifier> jwt_;
};

}  // namespace noa::controller::api
