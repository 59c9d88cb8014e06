#include "agent/http/http_client.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <cctype>
#include <limits>

#include "agent/http/deadline_socket.h"
#include "agent/http/https_module.h"
#include "agent/http/tcp_connect.h"

namespace noa::agent {
namespace {

namespace http = boost::beast::http;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool hasHeader(const HttpHeaders& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return equalsIgnoreCase(h.first, name); });
}

// What messages show: no query string, which may carry a token.
std::string describe(const HttpUrl& url, const HttpRequest& request) {
  return request.method + " " + url.origin() + url.target.substr(0, url.target.find('?'));
}

Status exchangeError(const std::string& what, const char* stage,
                     const boost::system::error_code& ec, const DeadlineSocket& socket,
                     SteadyClock::time_point start) {
  if (socket.timedOut()) {
    const auto waited = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
    return Status::DeadlineExceeded(what + ": timed out after " + std::to_string(waited.count()) +
                                    " ms waiting for the " + stage);
  }
  if (ec == boost::asio::error::eof || ec == http::error::end_of_stream ||
      ec == http::error::partial_message) {
    return Status::Unavailable(what + ": connection closed before the " + stage +
                               " was complete");
  }
  if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
    return Status::Unavailable(what + ": not a valid HTTP " + stage + " (" + ec.message() + ")");
  }
  return Status::Unavailable(what + ": " + stage + ": " + ec.message());
}

std::string hostHeader(const HttpUrl& url) {
  const int default_port = url.scheme == "https" ? 443 : 80;
  return url.port == default_port ? url.host : url.host + ":" + std::to_string(url.port);
}

bool isRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// An absolute Location, or one relative to `base` (RFC 9110 allows both).
std::string resolveLocation(const HttpUrl& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (!location.empty() && location[0] == '/') return base.origin() + location;
  const std::string path = base.target.substr(0, base.target.find('?'));
  return base.origin() + path.substr(0, path.rfind('/') + 1) + location;
}

}  // namespace

std::string HttpUrl::origin() const { return scheme + "://" + host + ":" + std::to_string(port); }

std::string HttpResponseHead::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return value;
  }
  return "";
}

Result<HttpUrl> parseHttpUrl(std::string_view url) {
  const auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("'" + std::string(url) + "' " + why);
  };
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return invalid("is not an http(s) URL");
  HttpUrl out;
  for (char c : url.substr(0, scheme_end)) {
    out.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (out.scheme != "http" && out.scheme != "https") return invalid("is not an http(s) URL");
  std::string_view rest = url.substr(scheme_end + 3);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.empty() || authority.find_first_of("@ \t\r\n") != std::string_view::npos) {
    return invalid("has no valid host");
  }
  std::string_view port_text;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("has no valid host");
    out.host = std::string(authority.substr(0, close + 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return invalid("has no valid host");
      port_text = authority.substr(close + 2);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.host == "[]") return invalid("has no valid host");
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || port > 65535) {
        return invalid("has an invalid port");
      }
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return invalid("has an invalid port");
    out.port = port;
  }
  std::string target(rest.substr(authority_end));
  target = target.substr(0, target.find('#'));
  if (target.empty() || target[0] != '/') target.insert(0, "/");
  out.target = std::move(target);
  return out;
}

Result<HttpExchange> plainHttpExchange(const HttpUrl& url, const HttpRequest& request,
                                       const HttpHandlers& handlers) {
  const std::string what = describe(url, request);
  const http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) {
    return Status::InvalidArgument(what + ": unknown HTTP method");
  }
  const auto start = SteadyClock::now();
  const auto overall =
      request.total_timeout ? start + *request.total_timeout : SteadyClock::time_point::max();
  Result<int> fd = connectTcp(url.host, url.port, std::min(overall, start + request.connect_timeout));
  if (!fd.ok()) return Status(fd.status().code(), what + ": " + fd.status().message());
  DeadlineSocket socket(*fd);
  socket.setLimits(overall, request.io_timeout);

  http::request<http::string_body> req{verb, url.target, 11};
  req.set(http::field::host, hostHeader(url));
  if (!hasHeader(request.headers, "User-Agent")) {
    req.set(http::field::user_agent, std::string("noa-agent/") + NOA_VERSION);
  }
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  if (!request.body.empty() || verb == http::verb::post || verb == http::verb::put ||
      verb == http::verb::patch) {
    if (!request.content_type.empty()) req.set(http::field::content_type, request.content_type);
    req.body() = request.body;
    req.prepare_payload();
  }
  boost::system::error_code ec;
  http::write(socket, req, ec);
  // A server may answer and close before reading everything (a 503 when busy, a 413): its
  // answer is still waiting in our receive buffer, so read it before blaming the send.
  const boost::system::error_code send_error = ec;
  if (ec && ec != boost::asio::error::broken_pipe && ec != boost::asio::error::connection_reset) {
    return exchangeError(what, "request to be sent", ec, socket, start);
  }

  boost::beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  // Callers cap what they keep. Not boost::none: Boost 1.74 compares a Content-Length against
  // the empty optional and refuses every body.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (verb == http::verb::head) parser.skip(true);
  http::read_header(socket, buffer, parser, ec);
  if (ec && send_error) return exchangeError(what, "request to be sent", send_error, socket, start);
  if (ec) return exchangeError(what, "answer", ec, socket, start);

  HttpExchange exchange;
  exchange.head.status = static_cast<int>(parser.get().result_int());
  for (const auto& field : parser.get()) {
    exchange.head.headers.emplace_back(std::string(field.name_string()),
                                       std::string(field.value()));
  }
  if (auto length = parser.content_length()) exchange.head.content_length = *length;
  if (handlers.on_head && !handlers.on_head(exchange.head)) return exchange;

  char chunk[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof(chunk);
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = sizeof(chunk) - parser.get().body().size;
    if (got > 0 && handlers.on_body && !handlers.on_body(chunk, got)) return exchange;
    if (ec) return exchangeError(what, "body", ec, socket, start);
  }
  exchange.complete = true;
  return exchange;
}

Result<HttpExchange> httpExchange(const HttpRequest& request, const HttpHandlers& handlers) {
  HttpRequest current = request;
  for (int hop = 0;; ++hop) {
    NOA_ASSIGN_OR_RETURN(HttpUrl url, parseHttpUrl(current.url));
    bool redirected = false;
    std::string location;
    int redirect_status = 0;
    HttpHandlers hop_handlers{
        [&](const HttpResponseHead& head) {
          if (hop < request.max_redirects && isRedirect(head.status)) {
            location = head.header("Location");
            if (!location.empty()) {
              redirected = true;
              redirect_status = head.status;
              return false;
            }
          }
          return !handlers.on_head || handlers.on_head(head);
        },
        handlers.on_body};
    Result<HttpExchange> exchange = Status::Internal("unreachable");
    if (url.scheme == "https") {
      exchange = httpsExchange(url, current, hop_handlers);
    } else {
      exchange = plainHttpExchange(url, current, hop_handlers);
    }
    if (!exchange.ok() || !redirected) {
      if (exchange.ok()) exchange->final_url = current.url;
      return exchange;
    }
    current.url = resolveLocation(url, location);
    if (redirect_status == 303) {
      current.method = "GET";
      current.body.clear();
    }
  }
}

std::string httpErrorReason(const Status& status) {
  const std::string& message = status.message();
  const std::size_t colon = message.find(": ");
  return colon == std::string::npos ? message : message.substr(colon + 2);
}

Result<HttpResponse> httpCall(const HttpRequest& request, std::size_t max_body_bytes) {
  HttpResponse out;
  bool too_big = false;
  HttpHandlers handlers{nullptr, [&](const char* data, std::size_t size) {
                          if (out.body.size() + size > max_body_bytes) {
                            too_big = true;
                            return false;
                          }
                          out.body.append(data, size);
                          return true;
                        }};
  NOA_ASSIGN_OR_RETURN(HttpExchange exchange, httpExchange(request, handlers));
  if (too_big) {
    return Status::ResourceExhausted(request.method + " " + request.url.substr(0, request.url.find('?')) +
                                     ": answer larger than " + std::to_string(max_body_bytes) +
                                     " bytes");
  }
  out.head = std::move(exchange.head);
  return out;
}

}  // namespace noa::agent
