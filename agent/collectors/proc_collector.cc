#include "agent/collectors/proc_collector.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <deque>
#include <system_error>
#include <unordered_map>
#include <vector>

#include "common/protocol/metric_names.h"
#include "agent/collectors/proc_files.h"
#include "agent/collectors/small_file.h"

namespace noa::agent {
namespace {

namespace names = metric_names;

std::optional<int64_t> numericName(const char* name) {
  const std::string_view s(name);
  int64_t pid = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

// Every process's stat, by pid. Processes that exit while we scan are simply not there.
std::unordered_map<int64_t, ProcStat> scanProcesses(const std::string& proc_root, Status* problem) {
  std::unordered_map<int64_t, ProcStat> out;
  DIR* dir = ::opendir(proc_root.c_str());
  if (dir == nullptr) {
    *problem = Status::IoError(proc_root + ": cannot list processes");
    return out;
  }
  while (const dirent* entry = ::readdir(dir)) {
    const std::optional<int64_t> pid = numericName(entry->d_name);
    if (!pid) continue;
    Result<std::string> text = readSmallFile(proc_root + "/" + entry->d_name + "/stat");
    if (!text.ok()) continue;
    Result<ProcStat> stat = parseProcStat(*text);
    if (stat.ok()) out.emplace(*pid, std::move(stat).value());
  }
  ::closedir(dir);
  return out;
}

}  // namespace

Result<ProcCollector> ProcCollector::create(ProcTarget target, const Clock& clock,
                                            ProcOptions options) {
  if ((target.pid > 0) == !target.pidfile.empty()) {
    return Status::InvalidArgument("process collector needs exactly one of a pid or a pidfile");
  }
  if (target.pid < 0) return Status::InvalidArgument("pid must be positive");
  if (options.ticks_per_second <= 0) options.ticks_per_second = ::sysconf(_SC_CLK_TCK);
  if (options.ticks_per_second <= 0) return Status::Internal("sysconf(_SC_CLK_TCK) failed");
  if (options.max_processes == 0) return Status::InvalidArgument("max_processes must be > 0");
  return ProcCollector(std::move(target), clock, std::move(options));
}

ProcCollector::ProcCollector(ProcTarget target, const Clock& clock, ProcOptions options)
    : target_(std::move(target)), clock_(&clock), options_(std::move(options)) {}

std::string ProcCollector::describeTarget() const {
  return target_.pid > 0 ? "pid " + std::to_string(target_.pid) : "pidfile " + target_.pidfile;
}

Result<int64_t> ProcCollector::resolvePid() const {
  if (target_.pid > 0) return target_.pid;
  NOA_ASSIGN_OR_RETURN(const std::string text, readSmallFile(target_.pidfile));
  Result<int64_t> pid = parsePidfile(text);
  if (!pid.ok()) return Status::InvalidArgument(target_.pidfile + ": " + pid.status().message());
  return pid;
}

SourceReading ProcCollector::collect() {
  SourceReading out;
  const Result<int64_t> pid = resolvePid();
  if (!pid.ok()) {
    out.note(pid.status());
    return out;
  }
  const std::string pid_name = "pid " + std::to_string(*pid);
  const std::string root_dir = options_.proc_root + "/" + std::to_string(*pid);
  Result<std::string> root_text = readSmallFile(root_dir + "/stat");
  if (!root_text.ok()) {
    out.note(root_text.status().code() == StatusCode::kNotFound
                 ? Status::NotFound(pid_name + ": not found")
                 : root_text.status());
    return out;
  }
  const Result<ProcStat> root = parseProcStat(*root_text);
  if (!root.ok()) {
    out.note(Status::InvalidArgument(root_dir + "/stat: " + root.status().message()));
    return out;
  }
  if (root->state == 'Z' || root->state == 'X') {
    out.note(Status::NotFound(pid_name + ": exited (zombie)"));
    return out;
  }

  Status scan_problem;
  std::unordered_map<int64_t, ProcStat> all = scanProcesses(options_.proc_root, &scan_problem);
  all.insert_or_assign(root->pid, *root);  // the scan may have raced with the root's own read
  std::unordered_map<int64_t, std::vector<int64_t>> children;
  for (const auto& [child, stat] : all) {
    if (child != root->pid) children[stat.ppid].push_back(child);
  }

  // Breadth-first from the root; each pid is reached at most once since ppid links form a tree.
  std::vector<const ProcStat*> tree;
  std::deque<int64_t> queue = {root->pid};
  while (!queue.empty() && tree.size() < options_.max_processes) {
    const int64_t current = queue.front();
    queue.pop_front();
    tree.push_back(&all.at(current));
    if (auto it = children.find(current); it != children.end()) {
      queue.insert(queue.end(), it->second.begin(), it->second.end());
    }
  }
  if (!queue.empty()) {
    out.note(Status::ResourceExhausted(pid_name + ": more than " +
                                       std::to_string(options_.max_processes) +
                                       " processes in the tree; counted the first ones"));
  }
  if (!scan_problem.ok()) out.note(scan_problem);

  uint64_t ticks = 0;
  uint64_t rss_bytes = 0;
  static const int64_t kPageSize = ::sysconf(_SC_PAGESIZE);
  for (const ProcStat* stat : tree) {
    ticks += stat->totalTicks();
    Result<std::string> status_text =
        readSmallFile(options_.proc_root + "/" + std::to_string(stat->pid) + "/status");
    Result<ProcStatus> status =
        status_text.ok() ? parseProcStatus(*status_text) : Result<ProcStatus>(status_text.status());
    if (status.ok()) {
      rss_bytes += status->vm_rss_bytes.value_or(0);
    } else if (stat->rss_pages > 0 && kPageSize > 0) {
      rss_bytes += static_cast<uint64_t>(stat->rss_pages) * static_cast<uint64_t>(kPageSize);
    }
  }

  // A new root (restart, or a reused pid) starts a new counter, not a negative or huge delta.
  const std::string key = std::to_string(root->pid) + ":" + std::to_string(root->starttime);
  if (key != cpu_key_) {
    rates_.forget(cpu_key_);
    cpu_key_ = key;
  }
  if (auto rate = rates_.update(key, static_cast<double>(ticks), clock_->now())) {
    out.add(names::kCpuUsageCores, *rate / static_cast<double>(options_.ticks_per_second));
  }
  out.add(names::kMemoryBytes, static_cast<double>(rss_bytes));
  out.add(names::kProcessCount, static_cast<double>(tree.size()));
  return out;
}

}  // namespace noa::agent
