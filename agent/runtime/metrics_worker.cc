#include "agent/runtime/metrics_worker.h"

namespace noa::agent {

void MetricsWorker::start() {
  if (!collector_->hasSources() || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void MetricsWorker::stop() {
  stop_.requestStop();
  if (thread_.joinable()) thread_.join();
}

MetricsSnapshot MetricsWorker::latest() const {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void MetricsWorker::run() {
  do {
    MetricsSnapshot next;
    next.collection = collector_->collect();
    if (const PromScrapeStats* stats = collector_->prometheusStats()) next.scrape = *stats;
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = std::move(next);
  } while (stop_.waitFor(interval_));
}

}  // namespace noa::agent
