#pragma once

// The REST layer's own request and response, so handlers run without a socket in tests and
// cpp-httplib stays inside api_server.cc.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "controller/api/auth/roles.h"
#include "controller/api/state_view.h"

namespace noa::controller::api {

class Authenticator;
class LongPollSlots;
class RateLimiter;

struct ApiRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> path_params;  // "{id}" in the route's path -> value
  std::multimap<std::string, std::string> query;
  std::string body;           // at most ApiOptions::max_payload_bytes
  std::string authorization;  // the Authorization header: a secret, never log or echo it
  std::string remote;         // the client's address, for the audit trail
  Caller caller;              // set by dispatch after the access check

  // The first value of a query parameter, if present (even when empty).
  std::optional<std::string> queryParam(const std::string& name) const;
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What every handler may read. Handlers are called from the server's pool threads.
struct ApiContext {
  const StateView& state;
  const Clock& clock;
  // Null = `--api-auth none`: every caller is an anonymous admin (loopback only).
  const Authenticator* authenticator = nullptr;
  // Null = mutating routes are not rate limited.
  RateLimiter* limiter = nullptr;
  // Null = long-polls are neither bounded nor interrupted (handler tests without a server).
  LongPollSlots* long_polls = nullptr;
};

inline constexpr const char* kJsonContentType = "application/json";

// Invalid UTF-8 from an agent's probe detail is replaced rather than failing the response.
std::string dumpJson(const nlohmann::json& value, int indent = -1);
ApiResponse jsonResponse(int status, const nlohmann::json& body);

}  // namespace noa::controller::api
