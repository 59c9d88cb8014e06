#include "controller/api/api_server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <exception>

#include "common/log.h"
#include "controller/api/auth/api_security_config.h"
#include "controller/api/problem.h"
#include "controller/commands/command_book.h"

namespace noa::controller {
namespace {

using api::ApiRequest;
using api::ApiResponse;

constexpr size_t kMaxLoggedPath = 200;

void writeResponse(const ApiResponse& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [name, value] : from.headers) to.set_header(name, value);
  to.set_content(from.body, from.content_type.c_str());
}

ApiRequest toApiRequest(const httplib::Request& req) {
  ApiRequest out;
  out.method = req.method;
  out.path = req.path;
  out.query.insert(req.params.begin(), req.params.end());
  out.body = req.body;
  out.authorization = req.get_header_value("Authorization");
  out.remote = req.remote_addr;
  return out;
}

// The metrics label: the route template, or "unmatched" (also for bytes that were not HTTP).
std::string_view routeOf(const httplib::Request& req, std::span<const api::Route> routes) {
  return req.method.empty() ? std::string_view("unmatched") : api::routeLabel(req.path, routes);
}

size_t headerBytes(const httplib::Request& req) {
  size_t total = 0;
  for (const auto& [name, value] : req.headers) total += name.size() + value.size() + 4;
  return total;
}

std::string loggedPath(const std::string& path) {
  return path.size() <= kMaxLoggedPath ? path : path.substr(0, kMaxLoggedPath) + "...";
}

}  // namespace

ApiServer::ApiServer(const StateView& state, prometheus::Registry& registry, ApiOptions options,
                     const Clock& clock)
    : state_(state), clock_(clock), options_(std::move(options)), metrics_(registry) {
  if (options_.rate_limit) {
    limiter_ = std::make_unique<api::RateLimiter>(*options_.rate_limit, clock_);
  }
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::installHandlers() {
  // Requests are counted where their response is made, before it is sent, so that a client
  // holding its answer also sees it counted.
  //
  // A request without Content-Length or Transfer-Encoding has no body (RFC 9112), but
  // cpp-httplib would read a POST's body until the client closes; answer those here, before
  // any body is read.
  server_->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (headerBytes(req) > options_.max_header_bytes) {
      writeResponse(api::problem(431, "request headers are limited to " +
                                          std::to_string(options_.max_header_bytes) + " bytes"),
                    res);
      metrics_.countRequest(routeOf(req, options_.routes), 431);
      audit(req, api::findRoute(req.method, req.path, options_.routes).route, api::Caller{}, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    route(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Requests with a body: cpp-httplib reads it (refusing more than max_payload_bytes) and one
  // catch-all per method hands it to the route table, which alone decides 404 versus 405.
  auto handle = [this](const httplib::Request& req, httplib::Response& res) { route(req, res); };
  server_->Get(".*", handle);
  server_->Post(".*", handle);
  server_->Put(".*", handle);
  server_->Patch(".*", handle);
  server_->Delete(".*", handle);
  server_->Options(".*", handle);

  // Called for every status >= 400. Our own answers already have a body; anything else was
  // refused by cpp-httplib before routing (not HTTP, body too large, URI too long, a method it
  // has no handler table for) and gets a problem body here.
  server_->set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty() || res.has_header("Content-Type")) {
          return httplib::Server::HandlerResponse::Unhandled;  // ours (a problem, or a 503 health)
        }
        // A readable request line for a known path with a method cpp-httplib has no handler
        // table for (TRACE or CONNECT with a body) is a 405.
        if (res.status == 400 && !req.path.empty()) {
          const api::RouteMatch match = api::findRoute(req.method, req.path, options_.routes);
          if (match.route == nullptr && !match.allow.empty()) {
            route(req, res);
            return httplib::Server::HandlerResponse::Handled;
          }
        }
        std::string detail = "the server cannot process this request";
        if (res.status == 400) detail = "not a valid HTTP/1.1 request";
        if (res.status == 413) {
          detail = "request bodies are limited to " + std::to_string(options_.max_payload_bytes) +
                   " bytes";
        }
        log::info("api request refused",
                  {{"status", res.status}, {"remote", req.remote_addr}, {"detail", detail}});
        writeResponse(api::problem(res.status, detail), res);
        metrics_.countRequest(routeOf(req, options_.routes), res.status);
        if (!req.method.empty()) {
          audit(req, api::findRoute(req.method, req.path, options_.routes).route, api::Caller{},
                res);
        }
        return httplib::Server::HandlerResponse::Handled;
      }));

  server_->set_exception_handler(
      [this](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        log::error("api handler failed", {{"path", loggedPath(req.path)}, {"error", what}});
        writeResponse(api::problem(500, "internal error"), res);
        metrics_.countRequest(routeOf(req, options_.routes), 500);
        audit(req, api::findRoute(req.method, req.path, options_.routes).route, api::Caller{}, res);
      });

  server_->set_logger([](const httplib::Request& req, const httplib::Response& res) {
    const log::Level level = res.status >= 500 ? log::Level::kWarn : log::Level::kDebug;
    if (log::enabled(level)) {
      log::write(level, "api request",
                 {{"method", req.method},
                  {"path", loggedPath(req.path)},
                  {"status", res.status},
                  {"remote", req.remote_addr}});
    }
  });
}

void ApiServer::route(const httplib::Request& req, httplib::Response& res) {
  const api::ApiContext context{state_, clock_, options_.authenticator.get(), limiter_.get(),
                                long_polls_.get()};
  api::Dispatched done = api::dispatchRequest(context, toApiRequest(req), options_.routes);
  writeResponse(done.response, res);
  metrics_.countRequest(routeOf(req, options_.routes), res.status);
  audit(req, done.route, done.caller, res);
}

void ApiServer::audit(const httplib::Request& req, const api::Route* route,
                      const api::Caller& caller, const httplib::Response& res) {
  if (route == nullptr || !route->mutates()) return;
  api::AuditEntry entry;
  entry.ts_ms = toUnixMillis(clock_.wallNow());
  entry.actor = caller.actor;
  entry.role = std::string(api::roleName(caller.role));
  entry.method = req.method;
  entry.path = loggedPath(req.path);
  entry.route = std::string(route->path);
  entry.status = res.status;
  if (res.status >= 400) {
    const auto body = nlohmann::json::parse(res.body, nullptr, false);
    if (body.is_object() && body.contains("detail") && body["detail"].is_string()) {
      entry.detail = body["detail"].get<std::string>();
    }
  }
  entry.remote = req.remote_addr;
  log::info("api change", {{"actor", entry.actor},
                           {"role", entry.role},
                           {"method", entry.method},
                           {"path", entry.path},
                           {"status", entry.status},
                           {"remote", entry.remote}});
  if (options_.audit != nullptr) options_.audit->record(entry);
}

Status ApiServer::start() {
  if (thread_.joinable()) return Status::FailedPrecondition("REST API already started");
  const bool tls = !options_.tls_cert_file.empty() || !options_.tls_key_file.empty();
  if (tls) {
    if (options_.tls_cert_file.empty() || options_.tls_key_file.empty()) {
      return Status::InvalidArgument("TLS needs both a certificate file and a key file");
    }
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(),
                                                    options_.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return Status::InvalidArgument("cannot load the TLS certificate '" + options_.tls_cert_file +
                                     "' or its key (PEM, matching, readable?)");
    }
    SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  server_->set_read_timeout(options_.read_timeout);
  server_->set_write_timeout(options_.write_timeout);
  server_->set_keep_alive_timeout(std::max<time_t>(1, options_.keep_alive_timeout.count()));
  server_->set_payload_max_length(options_.max_payload_bytes);
  // Headers and body go out in two writes; without TCP_NODELAY the body waits for the client's
  // delayed ACK on a kept-alive connection (measured ~40 ms per GET).
  server_->set_tcp_nodelay(true);
  // cpp-httplib's default sets SO_REUSEPORT, which lets a second controller bind the same port
  // and silently take half the requests; SO_REUSEADDR alone still allows a quick restart.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (options_.threads > 0) {
    const size_t threads = options_.threads;
    server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  }
  const size_t pool = options_.threads > 0 ? options_.threads : CPPHTTPLIB_THREAD_POOL_COUNT;
  long_polls_ = std::make_unique<api::LongPollSlots>(
      options_.max_long_polls > 0 ? options_.max_long_polls : std::max<size_t>(1, pool / 2));
  installHandlers();

  const std::string where = options_.host + ":" + std::to_string(options_.port);
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.host.c_str());
    if (port_ <= 0) return Status::Unavailable("cannot listen for REST on " + where);
  } else {
    if (!server_->bind_to_port(options_.host.c_str(), options_.port)) {
      return Status::Unavailable("cannot listen for REST on " + where +
                                 " (address in use or not local?)");
    }
    port_ = options_.port;
  }
  listen_returned_ = false;
  thread_ = std::thread([this] {
    server_->listen_after_bind();
    listen_returned_ = true;
  });
  log::info("REST API listening", {{"host", options_.host},
                                   {"port", port_},
                                   {"tls", tls},
                                   {"auth", options_.authenticator != nullptr}});
  if (options_.authenticator == nullptr) {
    log::warn("REST API without authentication (--api-auth none): every caller is admin");
  }
  if (!tls && !api::isLoopbackHost(options_.host)) {
    log::warn(
        "REST API serves plain HTTP on a non-loopback address (--api-allow-plain-http): "
        "bearer tokens travel in clear text",
        {{"host", options_.host}});
  }
  return Status::Ok();
}

void ApiServer::stop() {
  if (server_ == nullptr || !thread_.joinable()) return;
  // httplib's stop() does nothing until the listen loop runs; wait for it so join cannot hang.
  while (!listen_returned_ && !server_->is_running()) std::this_thread::yield();
  // End the long-polls first: the pool is joined only when every handler has returned.
  long_polls_->stop();
  if (commands::CommandBook* book = state_.commands()) book->wakeWaiters();
  server_->stop();
  thread_.join();
}

}  // namespace noa::controller
