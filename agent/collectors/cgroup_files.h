#pragma once

// Parsers for the cgroup v2 interface files the cgroup collector reads (see the kernel's
// Documentation/admin-guide/cgroup-v2.rst). Pure: file contents in, values out.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::agent {

// "key value" lines (cpu.stat, memory.stat, memory.events). Unknown keys are kept; a line that
// is not "<word> <unsigned>" makes the whole file InvalidArgument, since a file we misread is
// worse than one we report as unreadable.
Result<std::map<std::string, uint64_t>> parseFlatKeyed(std::string_view text);

// One unsigned number and a newline (memory.current).
Result<uint64_t> parseSingleValue(std::string_view text);

// memory.max: bytes, or nothing for "max" (no limit).
Result<std::optional<uint64_t>> parseMemoryMax(std::string_view text);

// cpu.max: "$MAX $PERIOD", where $MAX is microseconds per period or "max" (no quota).
struct CpuMax {
  std::optional<uint64_t> quota_usec;
  uint64_t period_usec = 100000;
  // The quota in cores (quota / period), or nothing without one.
  std::optional<double> limitCores() const;
};
Result<CpuMax> parseCpuMax(std::string_view text);

// The number of CPUs in a cpuset list such as "0-3,8,10-11" (cpuset.cpus.effective). An empty
// list is InvalidArgument: a cgroup with no CPU cannot be running anything we could measure.
Result<uint32_t> parseCpuListCount(std::string_view text);

// The values cpu.stat must hold for the collector (usage_usec always; the throttling fields
// only when the cpu controller is enabled for the cgroup).
struct CpuStat {
  uint64_t usage_usec = 0;
  std::optional<uint64_t> nr_periods;
  std::optional<uint64_t> nr_throttled;
  std::optional<uint64_t> throttled_usec;
};
Result<CpuStat> parseCpuStat(std::string_view text);

}  // namespace noa::agent
