#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace noa::testing {

// A TCP port on 127.0.0.1 that was free a moment ago, chosen at random below the kernel's
// ephemeral range (ports of outgoing connections never land there).
int freePort();

// Polls `condition` every `poll` until it holds or `timeout` passes. For waiting on other
// processes only; unit tests advance a FakeClock instead.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(50));

// GET http://127.0.0.1:port/path; returns the status code and body. With `bearer_token`, sends
// `Authorization: Bearer <token>` (see TestCredentials::token()); without, no such header.
struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};
Result<HttpResponse> httpGet(int port, const std::string& path,
                             const std::string& bearer_token = "");
// POST with a JSON body (may be empty), as httpGet otherwise.
Result<HttpResponse> httpPost(int port, const std::string& path, const std::string& json_body,
                              const std::string& bearer_token = "");
Result<nlohmann::json> httpGetJson(int port, const std::string& path,
                                   const std::string& bearer_token = "");

// Sends raw bytes to 127.0.0.1:port and returns what comes back within `timeout`.
Result<std::string> sendRaw(int port, const std::string& bytes, std::chrono::milliseconds timeout);

}  // namespace noa::testing
