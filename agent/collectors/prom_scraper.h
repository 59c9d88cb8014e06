#pragma once

// Scrapes a service's own Prometheus text endpoint (e.g. http://127.0.0.1:9187/metrics) and
// turns it into report metrics with PromMetrics (see prom_metrics.h for the naming rules).

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/collectors/prom_metrics.h"
#include "agent/collectors/source_reading.h"
#include "common/clock.h"
#include "common/status.h"

namespace noa::agent {

struct PromScrapeOptions {
  std::string url;  // http[s]://host[:port][/path]; the path defaults to /metrics
  // Bounds the whole scrape: connecting, the headers and the body.
  Millis timeout{2000};
  std::size_t max_body_bytes = 4 * 1024 * 1024;  // bigger answers are refused, not truncated
  PromSelection selection;
};

// Counts for the agent's own /metrics; everything a scrape did wrong is counted here.
struct PromScrapeStats {
  uint64_t scrapes = 0;
  uint64_t failures = 0;       // no usable answer: connection, timeout, HTTP status, size, garbage
  uint64_t skipped_lines = 0;  // malformed lines over all scrapes
  std::size_t dropped_metrics = 0;  // beyond max_metrics, at the last scrape
};

// Thread-compatible: one thread calls scrape().
class PromScraper {
 public:
  // Refuses a URL that is not http(s)://host..., a zero timeout or body cap.
  static Result<PromScraper> create(PromScrapeOptions options, const Clock& clock);

  // One GET, parsed and derived. SourceReading::status is non-OK when the scrape failed (no
  // metrics) and also when it succeeded with malformed lines skipped (metrics from the rest);
  // its message starts with displayUrl().
  SourceReading scrape();

  const PromScrapeStats& stats() const { return stats_; }
  // The URL without its query string (which may carry a token): what messages and logs show.
  const std::string& displayUrl() const { return display_url_; }

 private:
  PromScraper(PromScrapeOptions options, const Clock& clock);
  Result<std::string> fetch();

  PromScrapeOptions options_;
  std::string display_url_;
  const Clock* clock_;
  PromMetrics derived_;
  PromScrapeStats stats_;
};

}  // namespace noa::agent
