#include <httplib.h>

#include <exception>

#include "agent/probes/checks.h"

namespace noa::agent {
namespace {

// Only the status decides; a large or endless body must not cost the agent memory or time.
// Kubernetes reads at most 10 KiB of a probe's body too.
constexpr size_t kMaxBodyBytes = 10 * 1024;

}  // namespace

CheckOutcome checkHttp(const HttpGet& http, std::chrono::milliseconds timeout) {
  CheckOutcome out;
  const std::string target = "GET " + http.path;
  try {
    httplib::Client client(http.host, http.port);
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    client.set_keep_alive(false);
    // Kubernetes follows same-host redirects, but their 3xx answer is already a success, so
    // there is nothing to gain from a second request inside the same timeout.
    client.set_follow_location(false);
    httplib::Headers headers = {{"User-Agent", std::string("noa-probe/") + NOA_VERSION}};
    for (const auto& [name, value] : http.headers) headers.emplace(name, value);
    int status = 0;
    size_t body_bytes = 0;
    auto res = client.Get(
        http.path, headers,
        [&status](const httplib::Response& response) {
          status = response.status;
          return true;
        },
        [&body_bytes](const char*, size_t length) {
          body_bytes += length;
          return body_bytes <= kMaxBodyBytes;  // false ends the read: the status is known
        });
    if (!res && status == 0) {
      out.detail = target + ": " + httplib::to_string(res.error());
      return out;
    }
    out.success = status >= 200 && status < 400;
    out.detail = "HTTP " + std::to_string(status);
    if (body_bytes > kMaxBodyBytes) out.detail += " (body not read past 10 KiB)";
  } catch (const std::exception& e) {
    out.detail = target + ": " + e.what();
  }
  return out;
}

}  // namespace noa::agent
