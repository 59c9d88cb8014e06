#pragma once

// Helpers shared by the test server fixtures: free ports, temp dirs, and a spawned server process
// that is stopped by pid (never by name) and dies with the test process if that crashes.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace noa::testing {

// A port on 127.0.0.1 that was free a moment ago (bind port 0, read it back, close).
Result<int> pickFreePort();

// mkdtemp under $TMPDIR (or /tmp) with the given prefix.
Result<std::string> makeTempDir(const std::string& prefix);

// Chowns `path` and everything under it.
Status chownTree(const std::string& path, uid_t uid, gid_t gid);

struct SpawnOptions {
  std::vector<std::string> argv;
  std::string log_path;  // stdout and stderr are appended here
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
};

// A running server process that leads its own process group. Not thread-safe.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { kill(); }

  Status spawn(const SpawnOptions& options);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // True when the process has exited (and reaps it).
  bool exited();
  // Sends `sig`, waits up to `grace` for the exit, then SIGKILLs the whole group.
  Status stop(int sig, std::chrono::milliseconds grace);
  // SIGKILL to the group and reap; safe to call when not running.
  void kill();

 private:
  pid_t pid_ = -1;
};

// Reads up to the last `max` bytes of a file (for error messages with the server log).
std::string readTail(const std::string& path, size_t max = 2000);

}  // namespace noa::testing
