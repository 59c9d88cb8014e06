#pragma once

// The agent's HTTP client (probes, Prometheus scrapes, model downloads, llama.cpp's router, the
// Kubernetes API). Plain http:// is served here with Boost.Beast's parser over a
// DeadlineSocket; https:// goes to the TLS module (https_module.h), loaded on first use, so an
// agent that never speaks TLS never maps OpenSSL (issue 4: agent RSS).
// One request per connection (Connection: close): agents talk to a service every second or
// so, and a kept-alive socket per target is not worth its memory.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace noa::agent {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpUrl {
  std::string scheme;  // "http" | "https"
  std::string host;    // as written (IPv6 in brackets)
  int port = 0;        // explicit or the scheme's default
  std::string target;  // "/path?query", at least "/"
  std::string origin() const;  // scheme://host:port
};

// http(s)://host[:port][/path][?query]; no user info, no fragment.
Result<HttpUrl> parseHttpUrl(std::string_view url);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;  // User-Agent and Host are added unless given
  std::string body;
  std::string content_type;  // sent with a non-empty body
  std::chrono::milliseconds connect_timeout{5000};
  // No progress for this long (connect excluded) fails the request: a stalled peer.
  std::chrono::milliseconds io_timeout{5000};
  // Whole exchange, connect included; nullopt = only the two above.
  std::optional<std::chrono::milliseconds> total_timeout;
  int max_redirects = 0;  // 0: a 3xx is the answer
  std::string ca_file;    // https: trust these CAs instead of the system's
};

struct HttpResponseHead {
  int status = 0;
  HttpHeaders headers;
  std::optional<uint64_t> content_length;
  // First value of a header, case-insensitive name; "" when absent.
  std::string header(std::string_view name) const;
};

// Streaming callbacks; returning false stops reading (the exchange then ends without error and
// HttpExchange::complete is false).
struct HttpHandlers {
  std::function<bool(const HttpResponseHead&)> on_head;
  std::function<bool(const char* data, std::size_t size)> on_body;
};

struct HttpExchange {
  HttpResponseHead head;
  bool complete = false;  // the body was read to its end
  std::string final_url;  // after redirects
};

// Errors (messages read "<METHOD> <url without query>: <reason>"): InvalidArgument (bad URL or method), Unavailable ("connect to H:P: Connection
// refused", a closed or garbled answer), DeadlineExceeded ("... timed out after N ms"),
// FailedPrecondition (https and the TLS module cannot be loaded).
Result<HttpExchange> httpExchange(const HttpRequest& request, const HttpHandlers& handlers);

// The <reason> part of an error from httpExchange/httpCall, for callers that name the URL
// themselves.
std::string httpErrorReason(const Status& status);

struct HttpResponse {
  HttpResponseHead head;
  std::string body;
};

// The whole answer in memory; a body over `max_body_bytes` is ResourceExhausted.
Result<HttpResponse> httpCall(const HttpRequest& request, std::size_t max_body_bytes);

// Plain http:// only, no redirects: what the TLS module and httpExchange share.
Result<HttpExchange> plainHttpExchange(const HttpUrl& url, const HttpRequest& request,
                                       const HttpHandlers& handlers);

}  // namespace noa::agent
