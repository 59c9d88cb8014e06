#include "agent/collectors/cgroup_collector.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "agent/collectors/cgroup_files.h"
#include "common/protocol/metric_names.h"
#include "agent/collectors/small_file.h"

namespace noa::agent {
namespace {

namespace names = metric_names;

constexpr double kMicrosPerSecond = 1e6;

std::string stripTrailingSlashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

uint32_t onlineCpus() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<uint32_t>(n) : 1;
}

// Reads and parses one file; a parse error is reported with the file's path.
template <class T, class Parser>
Result<T> readParsed(const std::string& path, Parser parse) {
  NOA_ASSIGN_OR_RETURN(const std::string text, readSmallFile(path));
  Result<T> parsed = parse(text);
  if (!parsed.ok()) return Status::InvalidArgument(path + ": " + parsed.status().message());
  return parsed;
}

}  // namespace

CgroupCollector::CgroupCollector(std::string dir, const Clock& clock, CgroupOptions options)
    : dir_(stripTrailingSlashes(std::move(dir))),
      clock_(clock),
      host_cpus_(options.host_cpus > 0 ? options.host_cpus : onlineCpus()) {}

SourceReading CgroupCollector::collect() {
  SourceReading out;
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    // The cgroup went away (container stopped): its counters restart if it comes back.
    rates_.clear();
    out.note(Status::NotFound(dir_ + ": not found"));
    return out;
  }
  collectCpu(out, clock_.now());
  collectMemory(out);
  return out;
}

void CgroupCollector::collectCpu(SourceReading& out, MonoTime now) {
  std::optional<double> usage_cores;
  const Result<CpuStat> stat = readParsed<CpuStat>(dir_ + "/cpu.stat", parseCpuStat);
  if (stat.ok()) {
    if (auto rate = rates_.update("usage_usec", static_cast<double>(stat->usage_usec), now)) {
      usage_cores = *rate / kMicrosPerSecond;
      out.add(names::kCpuUsageCores, *usage_cores);
    }
    if (stat->nr_periods && stat->nr_throttled) {
      const auto periods = rates_.update("nr_periods", static_cast<double>(*stat->nr_periods), now);
      const auto throttled =
          rates_.update("nr_throttled", static_cast<double>(*stat->nr_throttled), now);
      // No enforcement period in the interval means the cgroup never ran out of quota.
      if (periods && throttled) {
        out.add(names::kCpuThrottledRatio,
                *periods > 0 ? std::min(1.0, *throttled / *periods) : 0.0);
      }
    }
  } else {
    out.note(stat.status());
  }

  // cpu.max and cpuset.cpus.effective exist only with their controller enabled: absent means
  // "not limited that way", not a problem.
  double limit = host_cpus_;
  const Result<CpuMax> cpu_max = readParsed<CpuMax>(dir_ + "/cpu.max", parseCpuMax);
  if (cpu_max.ok()) {
    if (auto cores = cpu_max->limitCores()) limit = std::min(limit, *cores);
  } else if (cpu_max.status().code() != StatusCode::kNotFound) {
    out.note(cpu_max.status());
  }
  const Result<uint32_t> cpuset =
      readParsed<uint32_t>(dir_ + "/cpuset.cpus.effective", parseCpuListCount);
  if (cpuset.ok()) {
    limit = std::min(limit, static_cast<double>(*cpuset));
  } else if (cpuset.status().code() != StatusCode::kNotFound) {
    out.note(cpuset.status());
  }
  out.add(names::kCpuLimitCores, limit);
  if (usage_cores && limit > 0) out.add(names::kCpuUsageRatioOfLimit, *usage_cores / limit);
}

void CgroupCollector::collectMemory(SourceReading& out) {
  const Result<uint64_t> current = readParsed<uint64_t>(dir_ + "/memory.current", parseSingleValue);
  if (current.ok()) {
    out.add(names::kMemoryBytes, static_cast<double>(*current));
  } else {
    out.note(current.status());
  }

  const Result<std::optional<uint64_t>> max =
      readParsed<std::optional<uint64_t>>(dir_ + "/memory.max", parseMemoryMax);
  if (!max.ok()) {
    out.note(max.status());
  } else if (max->has_value()) {
    const auto limit = static_cast<double>(**max);
    out.add(names::kMemoryLimitBytes, limit);
    if (current.ok() && limit > 0) {
      out.add(names::kMemoryUsageRatio, static_cast<double>(*current) / limit);
    }
  }

  if (!current.ok()) return;
  const auto memory_stat =
      readParsed<std::map<std::string, uint64_t>>(dir_ + "/memory.stat", parseFlatKeyed);
  if (memory_stat.ok()) {
    auto it = memory_stat->find("inactive_file");
    if (it != memory_stat->end()) {
      const uint64_t working_set = *current > it->second ? *current - it->second : 0;
      out.add(names::kMemoryWorkingSetBytes, static_cast<double>(working_set));
    }
  } else if (memory_stat.status().code() != StatusCode::kNotFound) {
    out.note(memory_stat.status());
  }
}

}  // namespace noa::agent
