#include <algorithm>

#include "agent/probes/checks.h"
#include "common/process/process.h"

namespace noa::agent {
namespace {

// The last non-empty line of a stream, for the detail.
std::string lastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  size_t begin = text.find_last_of('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, end - begin + 1);
}

}  // namespace

CheckOutcome checkExec(const Exec& exec, std::chrono::milliseconds timeout,
                       const StopToken* cancel) {
  CheckOutcome out;
  if (exec.argv.empty()) {
    out.detail = "no command to run";
    return out;
  }
  ProcessSpec spec;
  spec.argv = exec.argv;
  spec.timeout = timeout;
  // A probe command that ignores SIGTERM must not hold the probe for long.
  spec.kill_grace = std::min(timeout, std::chrono::milliseconds(500));
  spec.max_output_bytes = 4096;
  auto ran = runProcess(spec, cancel);
  if (!ran.ok()) {
    out.detail = "cannot run " + exec.argv[0] + ": " + ran.status().message();
    return out;
  }
  const ProcessResult& r = *ran;
  if (r.timed_out) {
    out.detail = "timed out after " + std::to_string(timeout.count()) + "ms";
    return out;
  }
  if (r.cancelled) {
    out.detail = "cancelled";
    return out;
  }
  out.success = r.exit_code == 0;
  std::string said = lastLine(r.stderr_tail);
  if (said.empty()) said = lastLine(r.stdout_tail);
  out.detail = r.term_signal != 0 ? "killed by signal " + std::to_string(r.term_signal)
                                  : "exit " + std::to_string(r.exit_code);
  if (!said.empty()) out.detail += ": " + said;
  return out;
}

}  // namespace noa::agent
