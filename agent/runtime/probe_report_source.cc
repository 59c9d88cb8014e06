#include "agent/runtime/probe_report_source.h"

namespace noa::agent {

void ProbeReportSource::fill(protocol::Report& report) {
  ProbeSnapshot snap = snapshot_();
  report.health = std::move(snap.health);
  report.role = std::move(snap.facts.role);
  for (auto& [key, value] : snap.facts.attributes) report.attributes[key] = std::move(value);
  if (metrics_) {
    MetricsSnapshot metrics = metrics_();
    report.metrics = std::move(metrics.collection.metrics);
    const std::string degraded = metrics.collection.degradedSummary();
    if (!degraded.empty()) report.attributes["metrics_degraded"] = degraded;
  }
  for (const auto& add : fillers_) add(report.attributes);
  first_built_.store(true);
}

}  // namespace noa::agent
