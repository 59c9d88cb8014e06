#pragma once

// Resources of a process tree read from /proc: a PID (or the PID in a pidfile, read again at
// every collection so a restarted service is followed) and all its descendants. For services
// without a cgroup of their own; metric names are in metric_names.h.

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/collectors/counter_rates.h"
#include "agent/collectors/source_reading.h"
#include "common/clock.h"
#include "common/status.h"

namespace noa::agent {

// Exactly one of the two is set.
struct ProcTarget {
  int64_t pid = 0;
  std::string pidfile;
};

struct ProcOptions {
  std::string proc_root = "/proc";    // tests point it at fixture directories
  int64_t ticks_per_second = 0;       // 0 = sysconf(_SC_CLK_TCK)
  std::size_t max_processes = 10000;  // bounds the work on a fork bomb
};

// Reports cpu_usage_cores (from the second collect() on), memory_bytes (the sum of every
// process's RSS, so pages shared between processes count once per process) and process_count.
// CPU is the tree's utime+stime plus the times of children it has reaped, so a short-lived
// child (a PostgreSQL backend) is counted once its parent waits for it.
// Thread-compatible: one thread calls collect().
class ProcCollector {
 public:
  static Result<ProcCollector> create(ProcTarget target, const Clock& clock,
                                      ProcOptions options = {});

  // Never fails as a whole. A PID that is gone (or a zombie) yields no metrics and
  // "pid 123: not found"; a missing pidfile "<path>: not found".
  SourceReading collect();

  std::string describeTarget() const;  // "pid 123" or "pidfile /run/x.pid"

 private:
  ProcCollector(ProcTarget target, const Clock& clock, ProcOptions options);
  Result<int64_t> resolvePid() const;

  ProcTarget target_;
  const Clock* clock_;
  ProcOptions options_;
  CounterRates rates_;
  std::string cpu_key_;  // "<pid>:<starttime>" of the tree's root at the last collection
};

}  // namespace noa::agent
