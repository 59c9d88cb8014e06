#pragma once

// The agent's own small HTTP listener, so an orchestrator can probe the sidecar itself and
// Prometheus can scrape it. Serves only:
//   GET /health          200 while the agent's loops run (liveness)
//   GET /health/ready    200 once registered with the controller, else 503 (readiness)
//   GET /health/startup  200 once the first report was built, else 503 (startup)
//   GET /metrics         Prometheus text format
// Everything else is 404. Thread-safe.

#include <prometheus/registry.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "agent/http/http_server.h"
#include "common/status.h"

namespace noa::agent {

struct AgentHealthFlags {
  std::function<bool()> live;
  std::function<bool()> ready;
  std::function<bool()> started;
  // Optional: runs before each /metrics scrape (mirrors counters kept elsewhere).
  std::function<void()> before_scrape;
};

class AgentHttp {
 public:
  AgentHttp(prometheus::Registry& registry, AgentHealthFlags flags);
  ~AgentHttp();

  // Binds HOST:PORT (port 0 = any free port) and serves on a background thread.
  Status start(const std::string& host, int port);
  void stop();
  int port() const { return server_ ? server_->port() : 0; }

 private:
  prometheus::Registry& registry_;
  AgentHealthFlags flags_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace noa::agent
