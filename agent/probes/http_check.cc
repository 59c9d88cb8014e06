#include <exception>

#include "agent/http/http_client.h"
#include "agent/probes/checks.h"

namespace noa::agent {
namespace {

// Only the status decides; a large or endless body must not cost the agent memory or time.
// Kubernetes reads at most 10 KiB of a probe's body too.
constexpr size_t kMaxBodyBytes = 10 * 1024;

std::string urlHost(const std::string& host) {
  return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

}  // namespace

CheckOutcome checkHttp(const HttpGet& http, std::chrono::milliseconds timeout) {
  CheckOutcome out;
  HttpRequest request;
  request.url = "http://" + urlHost(http.host) + ":" + std::to_string(http.port) + http.path;
  request.headers.emplace_back("User-Agent", std::string("noa-probe/") + NOA_VERSION);
  for (const auto& [name, value] : http.headers) request.headers.emplace_back(name, value);
  request.connect_timeout = timeout;
  request.io_timeout = timeout;
  request.total_timeout = timeout;
  // Kubernetes follows same-host redirects, but their 3xx answer is already a success, so
  // there is nothing to gain from a second request inside the same timeout.
  request.max_redirects = 0;
  size_t body_bytes = 0;
  HttpHandlers handlers{nullptr, [&body_bytes](const char*, size_t length) {
                          body_bytes += length;
                          return body_bytes <= kMaxBodyBytes;  // the status is already known
                        }};
  try {
    Result<HttpExchange> exchange = httpExchange(request, handlers);
    if (!exchange.ok()) {
      out.detail = exchange.status().message();
      return out;
    }
    const int status = exchange->head.status;
    out.success = status >= 200 && status < 400;
    out.detail = "HTTP " + std::to_string(status);
    if (body_bytes > kMaxBodyBytes) out.detail += " (body not read past 10 KiB)";
  } catch (const std::exception& e) {
    out.detail = "GET " + http.path + ": " + e.what();
  }
  return out;
}

}  // namespace noa::agent
