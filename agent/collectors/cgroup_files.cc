#include "agent/collectors/cgroup_files.h"

#include <string>
#include <vector>

#include "agent/collectors/text_fields.h"

namespace noa::agent {
namespace {

std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 40;
  return "'" + std::string(s.substr(0, kMax)) + (s.size() > kMax ? "...'" : "'");
}

}  // namespace

std::optional<double> CpuMax::limitCores() const {
  if (!quota_usec || period_usec == 0) return std::nullopt;
  return static_cast<double>(*quota_usec) / static_cast<double>(period_usec);
}

Result<std::map<std::string, uint64_t>> parseFlatKeyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trimBlanks(text.substr(start, end - start));
    start = end + 1;
    if (line.empty()) continue;
    const std::vector<std::string_view> fields = splitBlanks(line);
    std::optional<uint64_t> value;
    if (fields.size() == 2) value = parseWhole<uint64_t>(fields[1]);
    if (!value) return Status::InvalidArgument("not a 'key value' line: " + quoted(line));
    out[std::string(fields[0])] = *value;
  }
  return out;
}

Result<uint64_t> parseSingleValue(std::string_view text) {
  const std::string_view t = trimBlanks(text);
  const std::optional<uint64_t> v = parseWhole<uint64_t>(t);
  if (!v) return Status::InvalidArgument("not a number: " + quoted(t));
  return *v;
}

Result<std::optional<uint64_t>> parseMemoryMax(std::string_view text) {
  const std::string_view t = trimBlanks(text);
  if (t == "max") return std::optional<uint64_t>();
  const std::optional<uint64_t> v = parseWhole<uint64_t>(t);
  if (!v) return Status::InvalidArgument("not a number or 'max': " + quoted(t));
  return std::optional<uint64_t>(*v);
}

Result<CpuMax> parseCpuMax(std::string_view text) {
  const std::vector<std::string_view> fields = splitBlanks(text);
  const std::string bad = "not '<quota|max> <period>': " + quoted(trimBlanks(text));
  if (fields.empty() || fields.size() > 2) return Status::InvalidArgument(bad);
  CpuMax out;
  if (fields[0] != "max") {
    out.quota_usec = parseWhole<uint64_t>(fields[0]);
    if (!out.quota_usec) return Status::InvalidArgument(bad);
  }
  // The kernel always writes the period, but accepts "max" alone when written to.
  if (fields.size() == 2) {
    const std::optional<uint64_t> period = parseWhole<uint64_t>(fields[1]);
    if (!period || *period == 0) return Status::InvalidArgument(bad);
    out.period_usec = *period;
  }
  return out;
}

Result<uint32_t> parseCpuListCount(std::string_view text) {
  const std::string_view t = trimBlanks(text);
  if (t.empty()) return Status::InvalidArgument("empty cpu list");
  uint32_t count = 0;
  std::size_t start = 0;
  while (start <= t.size()) {
    std::size_t end = t.find(',', start);
    if (end == std::string_view::npos) end = t.size();
    const std::string_view item = t.substr(start, end - start);
    start = end + 1;
    const std::size_t dash = item.find('-');
    const std::optional<uint64_t> lo = parseWhole<uint64_t>(item.substr(0, dash));
    const std::optional<uint64_t> hi =
        dash == std::string_view::npos ? lo : parseWhole<uint64_t>(item.substr(dash + 1));
    if (!lo || !hi || *hi < *lo || *hi - *lo >= 65536) {
      return Status::InvalidArgument("not a cpu list: " + quoted(t));
    }
    count += static_cast<uint32_t>(*hi - *lo + 1);
  }
  return count;
}

Result<CpuStat> parseCpuStat(std::string_view text) {
  NOA_ASSIGN_OR_RETURN(const auto fields, parseFlatKeyed(text));
  auto get = [&fields](const char* key) -> std::optional<uint64_t> {
    auto it = fields.find(key);
    return it == fields.end() ? std::nullopt : std::optional<uint64_t>(it->second);
  };
  CpuStat out;
  const std::optional<uint64_t> usage = get("usage_usec");
  if (!usage) return Status::InvalidArgument("no usage_usec");
  out.usage_usec = *usage;
  out.nr_periods = get("nr_periods");
  out.nr_throttled = get("nr_throttled");
  out.throttled_usec = get("throttled_usec");
  return out;
}

}  // namespace noa::agent
