#pragma once

// The controller's own Prometheus metrics, declared once and injected (tests assert on them).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>

namespace noa::controller {

class ControllerMetrics {
 public:
  explicit ControllerMetrics(prometheus::Registry& registry);

  void countMessage(std::string_view type, size_t bytes);
  void countRejected(std::string_view reason);
  void countTransition(std::string_view to_state);
  void setAgents(size_t alive, size_t suspect, size_t lost);
  void observeCommit(double seconds, bool ok);
  void countHistoryPruned();

  double rejectedForTest(std::string_view reason);
  double transitionsForTest(std::string_view to_state);

 private:
  prometheus::Family<prometheus::Counter>& messages_;
  prometheus::Counter& bytes_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Gauge>& agents_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Counter& commit_failures_;
  prometheus::Counter& history_prunes_;
};

}  // namespace noa::controller
