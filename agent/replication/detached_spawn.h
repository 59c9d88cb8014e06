#pragma once

// Starts a long-lived server (the postmaster) that must outlive the agent: a new session
// (setsid, so the agent's process group and terminal signals never reach it), reparented to init
// by a double fork (so it never lingers as the agent's zombie, which kill(pid, 0) would still see
// as alive), stdin from /dev/null, stdout and stderr appended to a log file. Unlike runProcess()
// nothing waits for it.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace noa::agent::replication {

struct DetachedSpec {
  std::vector<std::string> argv;  // argv[0] must be a path (no PATH lookup)
  std::string log_path;           // created 0600 (owned by uid/gid) if missing, appended to
  std::string working_dir = "/";
  std::optional<uid_t> uid;  // drop to this user in the child
  std::optional<gid_t> gid;  // and group (supplementary groups cleared)
};

// The server's pid once it has exec'd; an error when it could not be started (not found, not
// executable, setuid refused, log not writable). The environment is inherited without the
// agent's own NOA_* settings and PGPASSWORD.
Result<pid_t> spawnDetached(const DetachedSpec& spec);

// kill(pid, 0) succeeds and /proc says it is not a zombie.
bool processAlive(pid_t pid);

}  // namespace noa::agent::replication
