#pragma once

// The controller's REST API (/v1 and /metrics) on cpp-httplib's thread pool, over HTTPS when a
// certificate is configured. Every answered request is counted (noa_api_requests_total{route,
// code}) and every rejection (noa_api_rejected_total{reason}), including bytes that are not HTTP
// at all; errors are application/problem+json. The routes are listed in routes.h and
// schemas/openapi.yaml; access.h says who may call them; every request to a mutating route is
// handed to the AuditSink after it was answered.
//
// Limits against misbehaving clients: bodies over max_payload_bytes get 413 before they are
// read, request headers over max_header_bytes 431, a client that stalls for read_timeout while
// sending its request (slowloris) is cut off and holds only its own pool thread meanwhile.
// Known limit: cpp-httplib applies read_timeout per read, so a client trickling one byte per
// read_timeout keeps its thread; the pool (threads) bounds how many such clients matter.

#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "controller/api/api_metrics.h"
#include "controller/api/audit_sink.h"
#include "controller/api/auth/authenticator.h"
#include "controller/api/auth/rate_limiter.h"
#include "controller/api/long_poll_slots.h"
#include "controller/api/routes.h"
#include "controller/api/state_view.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace noa::controller {

struct ApiOptions {
  std::string host = "127.0.0.1";
  int port = 7700;  // 0 = any free port; port() tells which
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  // An idle keep-alive connection holds a pool thread, and stop() waits for it: keep it short.
  std::chrono::seconds keep_alive_timeout{1};
  size_t max_payload_bytes = 64 * 1024;
  // Request line excluded (cpp-httplib caps it at 8 KiB itself).
  size_t max_header_bytes = 16 * 1024;
  size_t threads = 0;  // 0 = cpp-httplib's default pool size
  // Requests that may long-poll (GET /v1/commands/{id}?wait=) at once, each holding a pool
  // thread; more are answered at once. 0 = half the pool (at least 1).
  size_t max_long_polls = 0;
  // Both set = HTTPS (TLS 1.2 or newer) with this PEM certificate (chain) and key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Null = no authentication (`--api-auth none`): every caller is an anonymous admin.
  std::shared_ptr<const api::Authenticator> authenticator;
  // Per-actor limit on mutating routes; nullopt = none.
  std::optional<api::RateLimit> rate_limit = api::RateLimit{};
  // Receives every request to a mutating route; null = none. Must outlive the server.
  api::AuditSink* audit = nullptr;
  // The production table unless a test needs routes it does not have (yet).
  std::span<const api::Route> routes = api::routeTable();
};

class ApiServer {
 public:
  // Registers the API's metrics in `registry` at once. `state` and `clock` must outlive this.
  ApiServer(const StateView& state, prometheus::Registry& registry, ApiOptions options,
            const Clock& clock = systemClock());
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and serves on a background thread. Unavailable when the address cannot be bound,
  // InvalidArgument when the TLS certificate or key cannot be loaded.
  Status start();
  // The bound port, valid after start().
  int port() const { return port_; }
  // Stops serving and joins the thread; safe to call more than once. Waits for requests in
  // flight, at most about the read timeout (a client that stalls mid-request); long-polls are
  // ended at once, with the record as it is.
  void stop();

  api::ApiMetrics& metricsForTest() { return metrics_; }

 private:
  void installHandlers();
  // Dispatches through the route table, writes the answer, counts and audits it.
  void route(const httplib::Request& req, httplib::Response& res);
  // For requests to a mutating route (nothing else is audited).
  void audit(const httplib::Request& req, const api::Route* route, const api::Caller& caller,
             const httplib::Response& res);

  const StateView& state_;
  const Clock& clock_;
  const ApiOptions options_;
  api::ApiMetrics metrics_;
  std::unique_ptr<api::RateLimiter> limiter_;
  std::unique_ptr<api::LongPollSlots> long_polls_;  // created by start()
  std::unique_ptr<httplib::Server> server_;         // created by start(): plain or TLS
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace noa::controller
