#pragma once

// Turns the samples of one Prometheus scrape into a few report metrics: counters become
// per-second rates, gauges are kept, and only the allowlisted families are reported so that
// reports stay small.
//
// Rules (one output metric per name; labelled series are summed, like PromQL's sum by name):
// - counter (or an untyped series whose name ends in _total), e.g. http_requests_total:
//   "http_requests_per_second" = sum over series of each series' rate. A series' first scrape,
//   and a scrape after its counter reset, gives it no rate yet.
// - gauge or untyped: the sum of the series' values, under the sample's own name.
// - histogram or summary family F: "F_count_per_second" (observations per second) and "F_mean"
//   (the mean observation during the interval: rate of F_sum / rate of F_count). Buckets and
//   quantiles are not reported: they cannot be summed across series.
// - NaN and infinite values are skipped.

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

#include "agent/collectors/counter_rates.h"
#include "agent/collectors/prom_text.h"
#include "common/clock.h"
#include "common/protocol/messages.h"

namespace noa::agent {

struct PromSelection {
  // Family or sample names as the endpoint writes them ("http_requests_total",
  // "http_request_duration_seconds"); an entry ending in '*' matches a prefix ("pg_stat_*").
  // Empty: every family, up to max_metrics.
  std::vector<std::string> allowlist;
  // Output metrics beyond this many (in name order) are dropped and counted.
  std::size_t max_metrics = 64;
};

// Thread-compatible: one thread calls derive().
class PromMetrics {
 public:
  explicit PromMetrics(PromSelection selection) : selection_(std::move(selection)) {}

  struct Derived {
    std::vector<protocol::Metric> metrics;  // sorted by name
    std::size_t dropped = 0;                // beyond max_metrics
    std::size_t allowed_samples = 0;        // samples that passed the allowlist
  };
  // `now` is when the scrape was taken; rates are measured between successive calls.
  Derived derive(const std::vector<PromSample>& samples, MonoTime now);

  bool allowed(const PromSample& sample) const;

 private:
  PromSelection selection_;
  CounterRates rates_;
  std::unordered_set<std::string> rate_keys_;  // series with a remembered counter
};

}  // namespace noa::agent
