#pragma once

// A parser for the Prometheus text exposition format (version 0.0.4), as served on a service's
// own /metrics. Pure: text in, samples out, no I/O.
//
// Lenient where the format's producers commonly are (CRLF line ends, blanks before a line, a
// trailing comma in the label set, `_total` counters declared under their OpenMetrics family
// name, `# EOF`) and strict where a guess could report a wrong number: a line that does not parse
// is skipped whole and counted, never half-read.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace noa::agent {

enum class PromType { kUntyped, kCounter, kGauge, kHistogram, kSummary };

std::string_view promTypeName(PromType type);  // "untyped", "counter", ...

struct PromSample {
  std::string name;  // as written, e.g. "http_request_duration_seconds_bucket"
  // The `# TYPE` family the sample belongs to ("http_request_duration_seconds" for its _bucket,
  // _sum and _count series); the sample's own name when no TYPE line covers it.
  std::string family;
  PromType type = PromType::kUntyped;                       // the family's declared type
  std::vector<std::pair<std::string, std::string>> labels;  // written order, values unescaped
  double value = 0;                                         // may be NaN or +-Inf
  std::optional<int64_t> timestamp_ms;
};

struct PromParseResult {
  std::vector<PromSample> samples;
  std::size_t skipped_lines = 0;  // malformed sample, HELP or TYPE lines
  std::string first_error;        // "line 7: ...", empty when nothing was skipped
};

PromParseResult parsePromText(std::string_view text);

// The histogram/summary series a sample is, judged by its name against its family:
// "_bucket", "_sum", "_count", "_created", or "" for the family's own name (a summary quantile,
// a counter, a gauge).
std::string_view promSeriesSuffix(const PromSample& sample);

}  // namespace noa::agent
