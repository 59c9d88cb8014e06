#include "agent/collectors/proc_files.h"

#include <string>
#include <vector>

#include "agent/collectors/text_fields.h"

namespace noa::agent {
namespace {

// Positions in the fields after "(comm) ", counted from 0 = field 3 (state) of proc(5).
constexpr std::size_t kState = 0;
constexpr std::size_t kPpid = 1;
constexpr std::size_t kUtime = 11;
constexpr std::size_t kStime = 12;
constexpr std::size_t kCutime = 13;
constexpr std::size_t kCstime = 14;
constexpr std::size_t kStarttime = 19;
constexpr std::size_t kRss = 21;

}  // namespace

Result<ProcStat> parseProcStat(std::string_view text) {
  // comm is whatever the process named itself, ")" and spaces included, so the fields start
  // after the last ')'.
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return Status::InvalidArgument("stat without '(comm)'");
  }
  ProcStat out;
  const auto pid = parseWhole<int64_t>(trimBlanks(text.substr(0, open)));
  if (!pid || *pid <= 0) return Status::InvalidArgument("stat without a pid");
  out.pid = *pid;
  out.comm = std::string(text.substr(open + 1, close - open - 1));
  const std::vector<std::string_view> f = splitBlanks(text.substr(close + 1));
  if (f.size() <= kRss || f[kState].size() != 1) {
    return Status::InvalidArgument("stat has " + std::to_string(f.size()) + " fields after comm");
  }
  out.state = f[kState][0];
  const auto ppid = parseWhole<int64_t>(f[kPpid]);
  const auto utime = parseWhole<uint64_t>(f[kUtime]);
  const auto stime = parseWhole<uint64_t>(f[kStime]);
  const auto cutime = parseWhole<int64_t>(f[kCutime]);
  const auto cstime = parseWhole<int64_t>(f[kCstime]);
  const auto starttime = parseWhole<uint64_t>(f[kStarttime]);
  const auto rss = parseWhole<int64_t>(f[kRss]);
  if (!ppid || !utime || !stime || !cutime || !cstime || !starttime || !rss) {
    return Status::InvalidArgument("stat has a field that is not a number");
  }
  out.ppid = *ppid;
  out.utime = *utime;
  out.stime = *stime;
  // Signed in the kernel's format, never negative in practice.
  out.cutime = *cutime > 0 ? static_cast<uint64_t>(*cutime) : 0;
  out.cstime = *cstime > 0 ? static_cast<uint64_t>(*cstime) : 0;
  out.starttime = *starttime;
  out.rss_pages = *rss;
  return out;
}

Result<ProcStatus> parseProcStatus(std::string_view text) {
  ProcStatus out;
  bool saw_name = false;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::vector<std::string_view> value = splitBlanks(line.substr(colon + 1));
    if (key == "Name") saw_name = true;
    if (key == "VmRSS") {
      // "VmRSS:	    1234 kB"
      const auto kb = value.empty() ? std::nullopt : parseWhole<uint64_t>(value[0]);
      if (!kb || value.size() != 2 || value[1] != "kB") {
        return Status::InvalidArgument("VmRSS is not '<n> kB'");
      }
      out.vm_rss_bytes = *kb * 1024;
    } else if (key == "Threads") {
      out.threads = value.size() == 1 ? parseWhole<uint64_t>(value[0]) : std::nullopt;
      if (!out.threads) return Status::InvalidArgument("Threads is not a number");
    }
  }
  if (!saw_name) return Status::InvalidArgument("status without a Name line");
  return out;
}

Result<int64_t> parsePidfile(std::string_view text) {
  const std::string_view line = trimBlanks(text.substr(0, text.find('\n')));
  const auto pid = parseWhole<int64_t>(line);
  if (!pid || *pid <= 0) return Status::InvalidArgument("no pid on the first line");
  return *pid;
}

}  // namespace noa::agent
