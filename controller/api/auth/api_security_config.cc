#include "controller/api/auth/api_security_config.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/duration.h"

namespace noa::controller::api {
namespace {

Result<std::string> readSecretFile(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument(std::string(flag) + ": cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  // Files written with `echo` end in a newline that is not part of the secret.
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  if (value.empty())
    return Status::InvalidArgument(std::string(flag) + ": '" + path + "' is empty");
  return value;
}

std::string stringFlag(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : std::string();
}

}  // namespace

bool isLoopbackHost(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1 && (ntohl(addr.s_addr) >> 24) == 127;
}

void addApiSecurityFlags(po::options_description& desc) {
  desc.add_options()("api-auth", po::value<std::string>()->default_value("bearer"),
                     "bearer: every route but /v1/health and /metrics needs a token | none: no "
                     "authentication (only with a loopback --api-listen)")(
      "api-tokens-file", po::value<std::string>(),
      "static tokens: lines 'NAME ROLE SHA256HEX' (see `noa-controller token new`)")(
      "api-jwt-hs256-secret-file", po::value<std::string>(),
      "file holding the HS256 secret of bearer JWTs (or the secret itself in "
      "NOA_API_JWT_HS256_SECRET)")("api-jwt-rs256-public-key-file", po::value<std::string>(),
                                   "PEM RSA public key that verifies RS256 bearer JWTs")(
      "api-jwt-issuer", po::value<std::string>(), "JWTs must carry this 'iss'")(
      "api-jwt-audience", po::value<std::string>(), "JWTs must carry this 'aud'")(
      "api-tls-cert-file", po::value<std::string>(), "PEM certificate (chain): serve HTTPS")(
      "api-tls-key-file", po::value<std::string>(), "PEM private key of --api-tls-cert-file")(
      "api-allow-plain-http", po::bool_switch(),
      "allow plain HTTP on a non-loopback --api-listen (tokens travel in clear text)")(
      "api-rate-limit", po::value<double>()->default_value(5),
      "mutating calls per second per caller (token bucket refill)")(
      "api-rate-burst", po::value<double>()->default_value(20),
      "mutating calls a caller may make at once")("api-max-body-bytes",
                                                  po::value<size_t>()->default_value(64 * 1024),
                                                  "largest request body accepted")(
      "api-read-timeout", po::value<std::string>()->default_value("5s"),
      "a client silent this long while sending its request is cut off");
}

Status parseApiSecurityFlags(const po::variables_map& vm, const std::string& api_host,
                             ApiSecurityConfig& config) {
  const std::string auth = stringFlag(vm, "api-auth");
  if (auth != "bearer" && auth != "none") {
    return Status::InvalidArgument("--api-auth must be bearer or none, not '" + auth + "'");
  }
  config.auth_none = auth == "none";
  config.tokens_file = stringFlag(vm, "api-tokens-file");
  config.jwt_rs256_public_key_file = stringFlag(vm, "api-jwt-rs256-public-key-file");
  config.jwt_issuer = stringFlag(vm, "api-jwt-issuer");
  config.jwt_audience = stringFlag(vm, "api-jwt-audience");
  config.tls_cert_file = stringFlag(vm, "api-tls-cert-file");
  config.tls_key_file = stringFlag(vm, "api-tls-key-file");
  config.allow_plain_http =
      vm.count("api-allow-plain-http") && vm["api-allow-plain-http"].as<bool>();
  config.rate_limit.per_second = vm["api-rate-limit"].as<double>();
  config.rate_limit.burst = vm["api-rate-burst"].as<double>();
  config.max_body_bytes = vm["api-max-body-bytes"].as<size_t>();
  auto read_timeout = parseDuration(stringFlag(vm, "api-read-timeout"));
  if (!read_timeout.ok()) return read_timeout.status().withContext("--api-read-timeout");
  config.read_timeout = *read_timeout;

  const std::string secret_file = stringFlag(vm, "api-jwt-hs256-secret-file");
  const char* secret_env = std::getenv(kHs256SecretEnv);
  if (!secret_file.empty() && secret_env != nullptr && *secret_env != '\0') {
    return Status::InvalidArgument(std::string("set either --api-jwt-hs256-secret-file or ") +
                                   kHs256SecretEnv + ", not both");
  }
  if (!secret_file.empty()) {
    NOA_ASSIGN_OR_RETURN(config.jwt_hs256_secret,
                         readSecretFile(secret_file, "--api-jwt-hs256-secret-file"));
    config.jwt_hs256_secret_source = "file " + secret_file;
  } else if (secret_env != nullptr && *secret_env != '\0') {
    config.jwt_hs256_secret = secret_env;
    config.jwt_hs256_secret_source = std::string("env ") + kHs256SecretEnv;
  }

  if (config.tls_cert_file.empty() != config.tls_key_file.empty()) {
    return Status::InvalidArgument("--api-tls-cert-file and --api-tls-key-file go together");
  }
  if (!(config.rate_limit.per_second > 0) || !(config.rate_limit.burst >= 1)) {
    return Status::InvalidArgument("--api-rate-limit must be > 0 and --api-rate-burst >= 1");
  }
  if (config.max_body_bytes < 1024 || config.max_body_bytes > 16 * 1024 * 1024) {
    return Status::InvalidArgument("--api-max-body-bytes must be between 1024 and 16777216");
  }
  if (config.read_timeout < std::chrono::milliseconds(100) ||
      config.read_timeout > std::chrono::minutes(5)) {
    return Status::InvalidArgument("--api-read-timeout must be between 100ms and 5m");
  }
  const bool loopback = isLoopbackHost(api_host);
  if (!config.tls() && !loopback && !config.allow_plain_http) {
    return Status::InvalidArgument(
        "--api-listen '" + api_host +
        "' is not loopback: serve HTTPS (--api-tls-cert-file, --api-tls-key-file) or allow "
        "plain HTTP explicitly (--api-allow-plain-http)");
  }

  const bool has_source = !config.tokens_file.empty() || !config.jwt_hs256_secret.empty() ||
                          !config.jwt_rs256_public_key_file.empty();
  if (config.auth_none) {
    if (has_source) {
      return Status::InvalidArgument("--api-auth none contradicts the token sources given");
    }
    if (!loopback) {
      return Status::InvalidArgument(
          "--api-auth none is allowed only with a loopback "
          "--api-listen, not '" +
          api_host + "'");
    }
    config.authenticator = nullptr;
    return Status::Ok();
  }
  if (!has_source) {
    return Status::InvalidArgument(
        "the REST API needs a token source: --api-tokens-file, --api-jwt-hs256-secret-file (or " +
        std::string(kHs256SecretEnv) +
        ") or --api-jwt-rs256-public-key-file; or --api-auth none (loopback only)");
  }
  std::vector<StaticToken> tokens;
  if (!config.tokens_file.empty()) {
    auto loaded = loadTokensFile(config.tokens_file);
    if (!loaded.ok()) return loaded.status().withContext("--api-tokens-file");
    tokens = std::move(loaded).value();
  }
  std::optional<JwtVerifier> jwt;
  if (!config.jwt_hs256_secret.empty() || !config.jwt_rs256_public_key_file.empty()) {
    JwtOptions options;
    options.hs256_secret = config.jwt_hs256_secret;
    if (!config.jwt_rs256_public_key_file.empty()) {
      NOA_ASSIGN_OR_RETURN(
          options.rs256_public_key_pem,
          readSecretFile(config.jwt_rs256_public_key_file, "--api-jwt-rs256-public-key-file"));
    }
    options.issuer = config.jwt_issuer;
    options.audience = config.jwt_audience;
    auto verifier = JwtVerifier::create(std::move(options));
    if (!verifier.ok()) return verifier.status();
    jwt = std::move(verifier).value();
  }
  config.authenticator = std::make_shared<Authenticator>(std::move(tokens), std::move(jwt));
  return Status::Ok();
}

nlohmann::json toJson(const ApiSecurityConfig& config) {
  auto orNull = [](const std::string& s) -> nlohmann::json {
    return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
  };
  nlohmann::json out = {
      {"api_auth", config.auth_none ? "none" : "bearer"},
      {"api_tokens_file", orNull(config.tokens_file)},
      {"api_static_tokens",
       config.authenticator ? config.authenticator->staticTokenCount() : size_t{0}},
      {"api_jwt_hs256_secret", config.jwt_hs256_secret.empty()
                                   ? std::string("not set")
                                   : "set (from " + config.jwt_hs256_secret_source + ")"},
      {"api_jwt_rs256_public_key_file", orNull(config.jwt_rs256_public_key_file)},
      {"api_jwt_issuer", orNull(config.jwt_issuer)},
      {"api_jwt_audience", orNull(config.jwt_audience)},
      {"api_tls_cert_file", orNull(config.tls_cert_file)},
      {"api_tls_key_file", orNull(config.tls_key_file)},
      {"api_allow_plain_http", config.allow_plain_http},
      {"api_rate_limit", config.rate_limit.per_second},
      {"api_rate_burst", config.rate_limit.burst},
      {"api_max_body_bytes", config.max_body_bytes},
      {"api_read_timeout", formatDuration(config.read_timeout)}};
  return out;
}

}  // namespace noa::controller::api
