#pragma once

// noa-controller's REST security flags: who may call the API (static tokens, JWT), TLS, the
// plain-HTTP rule, limits. Parsed and checked here so that controller_config only forwards.
//
// Secrets (the HS256 secret; tokens never reach the controller, only their hashes) come from a
// file or the environment, never from argv, and toJson() shows only where they came from.
//
// Rules checked at start (and by --check-config):
//   - without a token source the controller refuses to start unless --api-auth none, which is
//     accepted only when the API listens on loopback;
//   - without TLS the API listens only on loopback unless --api-allow-plain-http.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/flags.h"
#include "common/status.h"
#include "controller/api/auth/authenticator.h"
#include "controller/api/auth/rate_limiter.h"

namespace noa::controller::api {

inline constexpr const char* kHs256SecretEnv = "NOA_API_JWT_HS256_SECRET";

struct ApiSecurityConfig {
  bool auth_none = false;  // --api-auth none
  std::string tokens_file;
  std::string jwt_hs256_secret;         // the secret itself: never log it
  std::string jwt_hs256_secret_source;  // "env NOA_API_JWT_HS256_SECRET" or "file PATH"
  std::string jwt_rs256_public_key_file;
  std::string jwt_issuer;
  std::string jwt_audience;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool allow_plain_http = false;
  RateLimit rate_limit;
  size_t max_body_bytes = 64 * 1024;
  std::chrono::milliseconds read_timeout{5000};
  // Built from the above by parseApiSecurityFlags; null when auth_none.
  std::shared_ptr<const Authenticator> authenticator;

  bool tls() const { return !tls_cert_file.empty(); }
};

void addApiSecurityFlags(po::options_description& desc);

// Reads the flags (and NOA_API_JWT_HS256_SECRET), loads the tokens file and keys, and checks
// the rules above for an API listening on `api_host`. Errors name the flag (or FILE:LINE).
Status parseApiSecurityFlags(const po::variables_map& vm, const std::string& api_host,
                             ApiSecurityConfig& config);

// For --check-config and the start log: paths and sources, never a secret.
nlohmann::json toJson(const ApiSecurityConfig& config);

// 127.0.0.0/8, ::1 and "localhost".
bool isLoopbackHost(const std::string& host);

}  // namespace noa::controller::api
