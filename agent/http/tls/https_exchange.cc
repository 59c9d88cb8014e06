// noa-agent-tls.so: the agent's https:// client, loaded on first use (see https_module.h).
// cpp-httplib with OpenSSL does the TLS; certificate verification is always on.

#include <httplib.h>
#include <openssl/x509.h>

#include <exception>

#include "agent/http/https_module.h"

namespace noa::agent {
namespace {

using SteadyClock = std::chrono::steady_clock;

Status describeFailure(const std::string& what, httplib::Error error, long verify_result,
                       const HttpRequest& request) {
  switch (error) {
    case httplib::Error::Connection:
      return Status::Unavailable(what + ": connection failed");
    case httplib::Error::ConnectionTimeout:
      return Status::DeadlineExceeded(what + ": connect timed out after " +
                                      std::to_string(request.connect_timeout.count()) + " ms");
    case httplib::Error::Read:
      return Status::Unavailable(what + ": no complete answer (io timeout " +
                                 std::to_string(request.io_timeout.count()) + " ms)");
    case httplib::Error::SSLServerVerification:
      return Status::Unavailable(what + ": server certificate not trusted: " +
                                 X509_verify_cert_error_string(verify_result));
    default:
      return Status::Unavailable(what + ": " + httplib::to_string(error));
  }
}

Result<HttpExchange> exchange(const HttpUrl& url, const HttpRequest& request,
                              const HttpHandlers& handlers) {
  // HttpUrl::origin() lives in the agent binary, which exports nothing to its modules.
  const std::string origin = url.scheme + "://" + url.host + ":" + std::to_string(url.port);
  const std::string what = request.method + " " + origin + url.target.substr(0, url.target.find('?'));
  const auto deadline = request.total_timeout
                            ? SteadyClock::now() + *request.total_timeout
                            : SteadyClock::time_point::max();
  httplib::Client client(origin);
  if (!client.is_valid()) return Status::InvalidArgument(what + ": unsupported URL");
  client.set_connection_timeout(request.connect_timeout);
  client.set_read_timeout(request.io_timeout);
  client.set_write_timeout(request.io_timeout);
  client.set_keep_alive(false);
  client.set_follow_location(false);  // httpExchange follows redirects, across schemes
  client.enable_server_certificate_verification(true);
  if (!request.ca_file.empty()) client.set_ca_cert_path(request.ca_file.c_str());

  httplib::Request req;
  req.method = request.method;
  req.path = url.target;
  for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
  if (req.headers.find("User-Agent") == req.headers.end()) {
    req.headers.emplace("User-Agent", std::string("noa-agent/") + NOA_VERSION);
  }
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    req.body = request.body;
    if (!request.content_type.empty()) req.headers.emplace("Content-Type", request.content_type);
  }
  HttpExchange out;
  bool stopped = false;
  bool too_late = false;
  req.response_handler = [&](const httplib::Response& response) {
    out.head.status = response.status;
    for (const auto& [name, value] : response.headers) out.head.headers.emplace_back(name, value);
    if (response.has_header("Content-Length")) {
      out.head.content_length =
          std::strtoull(response.get_header_value("Content-Length").c_str(), nullptr, 10);
    }
    if (handlers.on_head && !handlers.on_head(out.head)) stopped = true;
    return !stopped;
  };
  req.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (SteadyClock::now() > deadline) {
      too_late = true;
      return false;
    }
    if (handlers.on_body && !handlers.on_body(data, size)) stopped = true;
    return !stopped;
  };
  httplib::Result result = client.send(req);
  if (stopped) return out;
  if (too_late) {
    return Status::DeadlineExceeded(what + ": answer not complete within " +
                                    std::to_string(request.total_timeout->count()) + " ms");
  }
  if (!result) {
    return describeFailure(what, result.error(), client.get_openssl_verify_result(), request);
  }
  if (out.head.status == 0) {
    // No body: cpp-httplib calls neither handler for some answers.
    out.head.status = result->status;
    for (const auto& [name, value] : result->headers) out.head.headers.emplace_back(name, value);
    if (handlers.on_head && !handlers.on_head(out.head)) return out;
  }
  out.complete = true;
  return out;
}

}  // namespace
}  // namespace noa::agent

extern "C" __attribute__((visibility("default"))) void noa_https_exchange_v1(
    const noa::agent::HttpUrl& url, const noa::agent::HttpRequest& request,
    const noa::agent::HttpHandlers& handlers, noa::Result<noa::agent::HttpExchange>* out) {
  try {
    *out = noa::agent::exchange(url, request, handlers);
  } catch (const std::exception& e) {
    *out = noa::Status::Internal(std::string("https: ") + e.what());
  }
}
