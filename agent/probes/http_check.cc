#include <httplib.h>

#include <exception>

#include "agent/probes/checks.h"

namespace noa::agent {

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
    auto res = client.Get(http.path, headers);
    if (!res) {
      out.detail = target + ": " + httplib::to_string(res.error());
      return out;
    }
    out.success = res->status >= 200 && res->status < 400;
    out.detail = "HTTP " + std::to_string(res->status);
  } catch (const std::exception& e) {
    out.detail = target + ": " + e.what();
  }
  return out;
}

}  // namespace noa::agent
