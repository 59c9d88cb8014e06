#include "agent/collectors/metrics_collector.h"

#include <algorithm>
#include <set>

#include "common/log.h"

namespace noa::agent {

std::string Collection::degradedSummary() const {
  std::string out;
  for (const auto& [source, why] : degraded) {
    if (!out.empty()) out += "; ";
    out += source + ": " + why;
  }
  return out;
}

Result<std::unique_ptr<MetricsCollector>> MetricsCollector::create(MetricsConfig config,
                                                                   const Clock& clock) {
  if (config.pid < 0) return Status::InvalidArgument("metrics pid must be positive");
  if (config.pid > 0 && !config.pidfile.empty()) {
    return Status::InvalidArgument("give the metrics a pid or a pidfile, not both");
  }
  std::unique_ptr<MetricsCollector> collector(new MetricsCollector());
  if (!config.cgroup_dir.empty()) {
    collector->cgroup_.emplace(config.cgroup_dir, clock, config.cgroup_options);
  } else if (config.pid > 0 || !config.pidfile.empty()) {
    NOA_ASSIGN_OR_RETURN(
        ProcCollector proc,
        ProcCollector::create(ProcTarget{config.pid, config.pidfile}, clock, config.proc_options));
    collector->proc_.emplace(std::move(proc));
  }
  if (!config.prometheus.url.empty()) {
    NOA_ASSIGN_OR_RETURN(PromScraper scraper,
                         PromScraper::create(std::move(config.prometheus), clock));
    collector->prometheus_.emplace(std::move(scraper));
  }
  return collector;
}

Collection MetricsCollector::collect() {
  Collection out;
  std::set<std::string> names;
  auto take = [&](const char* source, SourceReading reading) {
    if (!reading.status.ok()) out.degraded[source] = reading.status.message();
    for (protocol::Metric& metric : reading.metrics) {
      if (names.insert(metric.name).second) out.metrics.push_back(std::move(metric));
    }
  };
  if (cgroup_) take(kSourceCgroup, cgroup_->collect());
  if (proc_) take(kSourceProcess, proc_->collect());
  if (prometheus_) take(kSourcePrometheus, prometheus_->scrape());
  std::sort(out.metrics.begin(), out.metrics.end(),
            [](const protocol::Metric& a, const protocol::Metric& b) { return a.name < b.name; });
  logTransitions(out.degraded);
  return out;
}

void MetricsCollector::logTransitions(const std::map<std::string, std::string>& degraded) {
  for (const auto& [source, why] : degraded) {
    auto it = last_degraded_.find(source);
    if (it == last_degraded_.end() || it->second != why) {
      log::warn("metrics source degraded", {{"source", source}, {"reason", why}});
    }
  }
  for (const auto& [source, why] : last_degraded_) {
    if (!degraded.contains(source)) log::info("metrics source recovered", {{"source", source}});
  }
  last_degraded_ = degraded;
}

}  // namespace noa::agent
