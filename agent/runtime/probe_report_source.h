#pragma once

// Fills each report from the probes (health with every probe's state, the service's replication
// role and its facts as attributes) and from the latest metrics collection. Thread-safe (fill runs on the session thread,
// the probes on their own).

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/probes/prober.h"
#include "agent/runtime/metrics_worker.h"
#include "agent/session/report_source.h"

namespace noa::agent {

class ProbeReportSource final : public ReportSource {
 public:
  // `snapshot` is usually Prober::snapshot, `metrics` MetricsWorker::latest (may be empty).
  explicit ProbeReportSource(std::function<ProbeSnapshot()> snapshot,
                             std::function<MetricsSnapshot()> metrics = {})
      : snapshot_(std::move(snapshot)), metrics_(std::move(metrics)) {}

  // noa::agent::ReportSource
  void fill(protocol::Report& report) override;

  // Adds attributes to every report after the probes' own (fencing, the service's process,
  // its endpoint). Call before the session starts; `add` runs on the session thread.
  using AttributeFiller = std::function<void(std::map<std::string, std::string>&)>;
  void addAttributes(AttributeFiller add) { fillers_.push_back(std::move(add)); }

  // True once a report has been built (the agent's /health/startup).
  bool firstReportBuilt() const { return first_built_.load(); }

 private:
  std::function<ProbeSnapshot()> snapshot_;
  std::function<MetricsSnapshot()> metrics_;
  std::vector<AttributeFiller> fillers_;
  std::atomic<bool> first_built_{false};
};

}  // namespace noa::agent
