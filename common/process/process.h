#pragma once

// Runs a subprocess without a shell and with a hard deadline. The child leads its own process
// group so that a timeout or a cancel can stop everything it spawned, not only itself: the whole
// group gets SIGTERM, then SIGKILL after `kill_grace`.
//
// runProcess() is thread-safe (it uses no shared state besides the inherited environment, which
// it only reads) and never leaves a zombie: the direct child is always reaped before it returns.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/stop_token.h"

namespace noa {

struct ProcessSpec {
  std::vector<std::string> argv;              // argv[0] is looked up in PATH; no shell
  std::map<std::string, std::string> env;     // added to (or replacing) the inherited environment
  std::string working_dir;                    // empty = inherit
  std::chrono::milliseconds timeout{0};       // 0 = no deadline
  std::chrono::milliseconds kill_grace{2000}; // SIGTERM -> SIGKILL delay on timeout/cancel
  size_t max_output_bytes = 64 * 1024;        // per stream; the tail is kept
  std::optional<uid_t> uid;                   // drop to this user in the child
  std::optional<gid_t> gid;                   // and group (supplementary groups are cleared)
};

struct ProcessResult {
  int exit_code = -1;    // -1 when the child was killed by a signal
  int term_signal = 0;   // the signal that ended the child, 0 when it exited
  bool timed_out = false;
  bool cancelled = false;
  std::string stdout_tail;
  std::string stderr_tail;
  bool stdout_truncated = false;  // true when only the tail of the stream was kept
  bool stderr_truncated = false;
  std::chrono::milliseconds duration{0};
};

// Returns an error only when the child could not be started (empty argv, binary not found, not
// executable, bad working dir, uid/gid change refused); a child that fails, times out or is
// cancelled is a ProcessResult. `cancel` is checked about every 50 ms.
Result<ProcessResult> runProcess(const ProcessSpec& spec, const StopToken* cancel = nullptr);

}  // namespace noa
