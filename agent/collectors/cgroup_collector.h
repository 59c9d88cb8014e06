#pragma once

// Container resources from a cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice/pg.service):
// CPU usage against the CPU limit, throttling, memory against the memory limit. Metric names are
// in metric_names.h.

#include <cstdint>
#include <string>

#include "agent/collectors/counter_rates.h"
#include "agent/collectors/source_reading.h"
#include "common/clock.h"

namespace noa::agent {

struct CgroupOptions {
  // The CPU limit when neither cpu.max nor cpuset.cpus.effective sets one; 0 = the host's
  // online CPUs.
  uint32_t host_cpus = 0;
};

// Reads cpu.stat, memory.current and memory.max (required: a missing one is reported), and
// cpu.max, cpuset.cpus.effective and memory.stat when present (they exist only when the
// controller is enabled for the cgroup). CPU usage and throttling are rates, so they appear
// from the second collect() on. Thread-compatible: one thread calls collect().
class CgroupCollector {
 public:
  // `dir` is any directory with cgroup v2 files; tests point it at fixtures.
  CgroupCollector(std::string dir, const Clock& clock, CgroupOptions options = {});

  // Never fails as a whole: what could not be read is in SourceReading::status and the rest
  // is still measured. A vanished directory yields no metrics and "<dir>: not found".
  SourceReading collect();

  const std::string& dir() const { return dir_; }

 private:
  void collectCpu(SourceReading& out, MonoTime now);
  void collectMemory(SourceReading& out);

  std::string dir_;
  const Clock& clock_;
  uint32_t host_cpus_;
  CounterRates rates_;
};

}  // namespace noa::agent
