#pragma once

// The controller's REST API (/v1 and /metrics) on cpp-httplib's thread pool. Reads only, through
// StateView. Every answered request is counted (noa_api_requests_total{route,code}) and every
// rejection (noa_api_rejected_total{reason}), including bytes that are not HTTP at all; errors
// are application/problem+json. The routes are listed in routes.h and schemas/openapi.yaml.

#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "controller/api/api_metrics.h"
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
  size_t max_payload_bytes = 4096;  // no route accepts a body yet
  size_t threads = 0;               // 0 = cpp-httplib's default pool size
};

class ApiServer {
 public:
  // Registers the API's metrics in `registry` at once. `state` and `clock` must outlive this.
  ApiServer(const StateView& state, prometheus::Registry& registry, ApiOptions options,
            const Clock& clock = systemClock());
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and serves on a background thread. Unavailable when the address cannot be bound.
  Status start();
  // The bound port, valid after start().
  int port() const { return port_; }
  // Stops serving and joins the thread; safe to call more than once. Waits for requests in
  // flight, at most about the read timeout (a client that stalls mid-request).
  void stop();

  api::ApiMetrics& metricsForTest() { return metrics_; }

 private:
  void installHandlers();
  // Dispatches through the route table, writes the answer and counts it.
  void route(const httplib::Request& req, httplib::Response& res);

  const StateView& state_;
  const Clock& clock_;
  const ApiOptions options_;
  api::ApiMetrics metrics_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<bool> listen_returned_{false};
  int port_ = 0;
};

}  // namespace noa::controller
