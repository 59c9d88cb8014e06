#pragma once

// The agent's metrics: one object that reads every configured source and returns what goes
// into a report (Report::metrics, plus a degraded note per source for Report::attributes).
//
//   MetricsConfig config;
//   config.cgroup_dir = "/sys/fs/cgroup/system.slice/postgresql.service";  // or pid / pidfile
//   config.prometheus.url = "http://127.0.0.1:9187/metrics";
//   config.prometheus.selection.allowlist = {"pg_stat_database_xact_commit"};
//   NOA_ASSIGN_OR_RETURN(auto collector, MetricsCollector::create(config, clock));
//   ... every report interval:
//   Collection c = collector->collect();
//   report.metrics = c.metrics;
//   if (!c.degraded.empty()) report.attributes["metrics_degraded"] = c.degradedSummary();

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/collectors/cgroup_collector.h"
#include "agent/collectors/proc_collector.h"
#include "agent/collectors/prom_scraper.h"
#include "common/clock.h"
#include "common/protocol/messages.h"
#include "common/status.h"

namespace noa::agent {

struct MetricsConfig {
  // Resources come from the cgroup v2 directory when one is given, else from the process tree
  // of `pid` or of the PID in `pidfile` (at most one of the two); none of them: no resources.
  std::string cgroup_dir;
  int64_t pid = 0;
  std::string pidfile;
  // The service's own Prometheus endpoint; off while prometheus.url is empty.
  PromScrapeOptions prometheus;

  CgroupOptions cgroup_options;
  ProcOptions proc_options;
};

// Source names used as keys of Collection::degraded.
inline constexpr char kSourceCgroup[] = "cgroup";
inline constexpr char kSourceProcess[] = "process";
inline constexpr char kSourcePrometheus[] = "prometheus";

struct Collection {
  // Sorted by name, each name once. Resource names (metric_names.h) win over a scraped metric
  // of the same name.
  std::vector<protocol::Metric> metrics;
  // Source -> why it is not fully working, e.g. "cgroup" ->
  // "/sys/fs/cgroup/x/memory.max: not found". Empty when every source is fine.
  std::map<std::string, std::string> degraded;

  // "cgroup: /sys/fs/cgroup/x/memory.max: not found; prometheus: ...", or "" when all is well.
  std::string degradedSummary() const;
};

// Thread-compatible: one thread calls collect(), once per report interval (rates are measured
// between successive calls). collect() blocks for at most the Prometheus scrape's timeout.
class MetricsCollector {
 public:
  // Checks the configuration (pid and pidfile together, a bad URL, ...); never touches the
  // sources, so a service that is not up yet does not stop the agent.
  static Result<std::unique_ptr<MetricsCollector>> create(MetricsConfig config, const Clock& clock);

  Collection collect();

  bool hasSources() const { return cgroup_ || proc_ || prometheus_; }
  // Counters for the agent's own /metrics; null when no endpoint is scraped.
  const PromScrapeStats* prometheusStats() const {
    return prometheus_ ? &prometheus_->stats() : nullptr;
  }

 private:
  MetricsCollector() = default;
  // Logs a source going degraded, changing its reason, or recovering: once per change, not
  // once per interval.
  void logTransitions(const std::map<std::string, std::string>& degraded);

  std::optional<CgroupCollector> cgroup_;
  std::optional<ProcCollector> proc_;
  std::optional<PromScraper> prometheus_;
  std::map<std::string, std::string> last_degraded_;
};

}  // namespace noa::agent
