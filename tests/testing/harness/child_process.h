#pragma once

// A real subprocess for integration tests: started in its own process group with output in a
// log file, and killed (SIGKILL to the whole group) by PID when the object goes away, so a
// failing test never leaves servers running.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace noa::testing {

class ChildProcess {
 public:
  // `env` entries are "NAME=value" additions to the test's environment. `run_as_user`, when
  // set, drops to that user (PostgreSQL refuses root).
  static Result<std::unique_ptr<ChildProcess>> start(std::vector<std::string> argv,
                                                     std::string log_path,
                                                     std::vector<std::string> env = {},
                                                     std::string run_as_user = "");
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running();
  void kill9();
  // SIGTERM, then SIGKILL after `grace`. Returns the exit code (or 128+signal).
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Waits for exit; returns the exit code (128+signal), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string logTail(size_t bytes = 4000) const;
  const std::string& logPath() const { return log_path_; }

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int exit_code_ = -1;
};

// A fresh temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace noa::testing
