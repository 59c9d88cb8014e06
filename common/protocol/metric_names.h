#pragma once

// Names of the resource metrics the agent reports (protocol::Metric::name). Part of the wire
// contract: the controller's service views, policies, the REST API and dashboards refer to them.

#include <string_view>

namespace noa::metric_names {

// CPU time used per second of wall time, in cores (1.0 = one core fully busy).
inline constexpr std::string_view kCpuUsageCores = "cpu_usage_cores";
// The CPUs the service may use: the cgroup's cpu.max quota, narrowed by its cpuset, or the
// host's CPUs when neither limits it. cgroup source only.
inline constexpr std::string_view kCpuLimitCores = "cpu_limit_cores";
// cpu_usage_cores / cpu_limit_cores, 0..1 (a little above 1 within measuring jitter).
inline constexpr std::string_view kCpuUsageRatioOfLimit = "cpu_usage_ratio_of_limit";
// The share of the interval's CFS enforcement periods in which the cgroup was throttled, 0..1.
inline constexpr std::string_view kCpuThrottledRatio = "cpu_throttled_ratio";
// cgroup: memory.current (includes page cache). Process tree: the sum of each process's RSS.
inline constexpr std::string_view kMemoryBytes = "memory_bytes";
// cgroup: memory.current minus inactive file pages, what the kernel cannot easily reclaim (the
// kubelet's "working set").
inline constexpr std::string_view kMemoryWorkingSetBytes = "memory_working_set_bytes";
inline constexpr std::string_view kMemoryLimitBytes = "memory_limit_bytes";  // memory.max
inline constexpr std::string_view kMemoryUsageRatio = "memory_usage_ratio";  // current / max
// Processes in the supervised tree (the PID and its descendants). Process tree source only.
inline constexpr std::string_view kProcessCount = "process_count";

// Scraped counters are reported as "<name without _total>" + kPerSecondSuffix.
inline constexpr std::string_view kPerSecondSuffix = "_per_second";

}  // namespace noa::metric_names
