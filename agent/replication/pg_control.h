#pragma once

// The local PostgreSQL server as something the agent controls through its data directory: who
// owns it, whether its postmaster runs, what pg_control says, stop, start, crash recovery and
// the standby configuration. Every PostgreSQL tool runs as the data directory's owner (the
// server refuses root, and files it creates must stay the owner's); the agent must then be
// root or the owner itself.
//
// start() does not depend on how the server was started first (pg_ctl, systemd, a test): it
// reruns the command line the postmaster wrote to <data_dir>/postmaster.opts, so the port,
// socket dir, config_file and -c settings are the same, detached from the agent (spawnDetached)
// with its output appended to <data_dir>/noa-postmaster.log.
//
// Not thread-safe; the replication lane serialises its users.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/replication/replication_common.h"
#include "common/process/process.h"
#include "common/status.h"
#include "common/stop_token.h"

namespace noa::agent::replication {

struct PgControlOptions {
  std::string data_dir;                    // required
  std::string bin_dir = kDefaultPgBinDir;  // pg_ctl, pg_controldata, pg_rewind, postgres
  // How to reach the server once started (PQping: accepting connections). A libpq conninfo, no
  // password needed.
  std::string ping_conninfo;
};

// What pg_controldata says (LC_ALL=C): "Database cluster state" verbatim ("in production",
// "shut down", "shut down in recovery", "in archive recovery", "in crash recovery",
// "shutting down"), and the latest checkpoint's timeline and location.
struct ControlData {
  std::string state;
  int timeline = 0;
  std::string checkpoint_lsn;  // "Latest checkpoint location"

  // Shut down cleanly (pg_rewind accepts only these).
  bool clean() const { return state == "shut down" || state == "shut down in recovery"; }
  // It ran (or last ran) as a primary, rather than as a standby.
  bool primary() const {
    return state == "shut down" || state == "in production" || state == "shutting down" ||
           state == "in crash recovery";
  }
};

// `/usr/lib/postgresql/15/bin/postgres "-D" "/x/data" "-c" "port=5433"` -> argv. The postmaster
// writes each argument after the first in double quotes without escaping; an argument ends at a
// quote followed by ` "` or the end of the line.
Result<std::vector<std::string>> parsePostmasterOpts(std::string_view text);

// pg_controldata's output -> ControlData; InvalidArgument without a cluster state line.
Result<ControlData> parseControlData(std::string_view text);

class PgControl {
 public:
  // Stats the data dir (must exist and hold PG_VERSION) to learn its owner.
  static Result<PgControl> open(PgControlOptions options);

  const std::string& dataDir() const { return options_.data_dir; }
  uid_t ownerUid() const { return uid_; }
  gid_t ownerGid() const { return gid_; }
  std::string logPath() const { return options_.data_dir + "/noa-postmaster.log"; }

  // The postmaster's pid from postmaster.pid when that process is alive, else 0.
  pid_t postmasterPid() const;
  bool running() const { return postmasterPid() > 0; }
  // Removes postmaster.pid when the pid it names is a zombie (or gone): PostgreSQL's own check
  // (kill(pid, 0)) takes a zombie for a live postmaster and refuses to start ("lock file
  // postmaster.pid already exists"). A postmaster killed -9 stays a zombie where nobody reaps
  // orphans (a container whose PID 1 is not an init). Call only when !running().
  void removeStalePidFile() const;

  // <bin_dir>/<tool> with `args`, as the owner, LC_ALL=C, cwd "/". `env` is added (PGPASSWORD).
  Result<ProcessResult> runTool(const std::string& tool, const std::vector<std::string>& args,
                                std::chrono::milliseconds timeout,
                                const std::map<std::string, std::string>& env = {},
                                const StopToken* cancel = nullptr) const;

  // pg_ctl stop -m fast (falling back to -m immediate when fast does not finish in `timeout`, so
  // a fence holds even with a stuck client); Ok when it was not running.
  Status stop(std::chrono::milliseconds timeout);
  // Starts from postmaster.opts and waits until the server accepts connections, exits, or
  // `timeout` passes. Ok at once when it runs already.
  Status start(std::chrono::milliseconds timeout);
  Result<ControlData> controlData() const;
  // Replays WAL after a crash in single-user mode (no listener, so no client can write), with
  // the last start's settings, leaving a cleanly shut down cluster. pg_rewind would do this
  // itself but without the -c settings of postmaster.opts: a cluster started with
  // -c wal_log_hints=on or -c config_file=... would then fail its checks.
  Status crashRecover(std::chrono::milliseconds timeout);

  // Standby configuration of a stopped server: standby.signal, and primary_conninfo in
  // postgresql.auto.conf (other lines kept). Files are written as the owner's, 0600, atomically.
  Status writeStandbySignal() const;
  Status setAutoConf(const std::string& key, const std::string& quoted_value) const;

  // The command line of the last start (postmaster.opts).
  Result<std::vector<std::string>> lastCommandLine() const;
  // postmaster.opts verbatim, and writing it back: pg_rewind deletes the target's (it is not in
  // the set of files it copies), and start() needs it.
  Result<std::string> postmasterOpts() const;
  Status restorePostmasterOpts(const std::string& text) const;

 private:
  PgControl(PgControlOptions options, uid_t uid, gid_t gid)
      : options_(std::move(options)), uid_(uid), gid_(gid) {}
  Status writeOwnedFile(const std::string& path, const std::string& content) const;

  PgControlOptions options_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

// "pg_ctl exited with status 1: <last stderr line>" etc., for tool runs that did not succeed.
Status toolStatus(const std::string& tool, const ProcessResult& run);

}  // namespace noa::agent::replication
