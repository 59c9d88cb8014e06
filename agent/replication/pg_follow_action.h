#pragma once

// pg.follow: makes the local server a streaming standby of primary_host:primary_port, whatever
// it is now:
//   running standby  ALTER SYSTEM SET primary_conninfo + pg_reload_conf() (PostgreSQL 15 restarts
//                    the walreceiver on a reload); streaming within stream_wait_ms ends it.
//   running primary  fast shutdown, then as stopped (a returning old primary).
//   stopped          a former primary (or a standby that did not stream) is rewound against the
//                    new primary (pg_rewind; one that crashed is first recovered in single-user
//                    mode, see PgControl::crashRecover); then standby.signal, primary_conninfo in
//                    postgresql.auto.conf, start from postmaster.opts, wait for streaming.
// A standby that was not streaming after its reconfiguration (its WAL forked off the new
// primary's timeline) is stopped and rewound too, unless rewind is "never".
//
// Params: primary_host (required), primary_port (default 5432), application_name (the agent's
// id by default), user (default "postgres": the replication and pg_rewind user), password
// (never logged; kept in primary_conninfo as PostgreSQL does), conninfo | host, port (how to
// reach the local server), data_dir (required), bin_dir, rewind ("auto" | "never"),
// timeout_ms (default 120000), stream_wait_ms (default 15000), lock_dir.
// Details: {was: "primary"|"replica"|"stopped", rewound, timeline, primary: "host:port"}.
// Errors: invalid_params, timeout (not streaming in time), tool_failed (pg_ctl, pg_rewind,
// pg_controldata), unreachable (the local server runs but does not answer), busy, io_error.

#include <nlohmann/json.hpp>
#include <string>

#include "agent/actions/action.h"
#include "agent/actions/pg_common.h"
#include "agent/replication/replication_common.h"
#include "common/status.h"

namespace noa::agent::replication {

struct PgFollowParams {
  std::string primary_host;
  int64_t primary_port = 5432;
  std::string application_name;
  std::string user = kDefaultPgUser;
  std::string password;
  actions::PgEndpoint local;  // conninfo/host/port only
  std::string data_dir;
  std::string bin_dir = kDefaultPgBinDir;
  std::string rewind = "auto";
  int64_t timeout_ms = 120000;
  int64_t stream_wait_ms = 15000;
  std::string lock_dir = actions::kDefaultLockDir;

  static Result<PgFollowParams> fromJson(const nlohmann::json& params);
};

actions::ActionResult runPgFollow(const PgFollowParams& params, const actions::ActionContext& ctx);

}  // namespace noa::agent::replication
