#pragma once

// Parsers for the /proc/<pid> files the process-tree collector reads (see proc(5)). Pure: file
// contents in, values out.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::agent {

// The fields of /proc/<pid>/stat we use. Times are in clock ticks (sysconf(_SC_CLK_TCK)).
struct ProcStat {
  int64_t pid = 0;
  std::string comm;  // may hold spaces and parentheses
  char state = '?';  // 'R', 'S', 'Z', ...
  int64_t ppid = 0;
  uint64_t utime = 0;
  uint64_t stime = 0;
  uint64_t cutime = 0;  // of children this process has waited for
  uint64_t cstime = 0;
  uint64_t starttime = 0;  // ticks after boot: with the pid, identifies one process
  int64_t rss_pages = 0;

  uint64_t totalTicks() const { return utime + stime + cutime + cstime; }
};
Result<ProcStat> parseProcStat(std::string_view text);

// The fields of /proc/<pid>/status we use. Kernel threads and zombies have no VmRSS line.
struct ProcStatus {
  std::optional<uint64_t> vm_rss_bytes;
  std::optional<uint64_t> threads;
};
Result<ProcStatus> parseProcStatus(std::string_view text);

// A pidfile's first line: a positive PID (PostgreSQL's postmaster.pid has more lines after it).
Result<int64_t> parsePidfile(std::string_view text);

}  // namespace noa::agent
