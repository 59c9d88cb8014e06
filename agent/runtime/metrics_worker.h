#pragma once

// Runs the MetricsCollector on its own thread, once per report interval, and keeps the latest
// collection for the report. A Prometheus scrape may take up to its timeout: on the session
// thread it would delay reports and acks (the heartbeats both sides judge each other by).
// Thread-safe.

#include <memory>
#include <mutex>
#include <thread>

#include "agent/collectors/metrics_collector.h"
#include "common/clock.h"
#include "common/stop_token.h"

namespace noa::agent {

struct MetricsSnapshot {
  Collection collection;
  PromScrapeStats scrape;  // zeros when no endpoint is scraped
};

class MetricsWorker {
 public:
  MetricsWorker(std::unique_ptr<MetricsCollector> collector, std::chrono::milliseconds interval)
      : collector_(std::move(collector)), interval_(interval) {}
  ~MetricsWorker() { stop(); }

  void start();
  void stop();
  MetricsSnapshot latest() const;

 private:
  void run();

  std::unique_ptr<MetricsCollector> collector_;  // used by the worker thread only
  const std::chrono::milliseconds interval_;
  StopToken stop_;
  std::thread thread_;
  mutable std::mutex mu_;
  MetricsSnapshot latest_;  // GUARDED_BY(mu_)
};

}  // namespace noa::agent
