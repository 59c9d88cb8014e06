#pragma once

// pg.promote: turns the local standby into a primary. The controller confirms a promotion from
// this action's reply alone, so it takes one connection and no fixed waits: pg_is_in_recovery(),
// pg_promote(wait => false), then pg_is_in_recovery() every 5 ms on the same connection until it
// is false (pg_promote's own wait polls every 100 ms), then the new position. A server that is
// already a primary is a success with already_primary: true, so a repeated command is harmless.
//
// Params: conninfo | host, port, user, dbname (the agent's own server by default; user
// "postgres" when none is given), wait_seconds (1..3600, default 10), lock_dir.
// Details: {promoted: true, already_primary, timeline, lsn} (promoted = it is a primary now).
// Errors: unreachable (cannot connect), timeout (still in recovery after wait_seconds),
// tool_failed (pg_promote refused, e.g. no privilege), busy (another replication action runs).

#include <nlohmann/json.hpp>
#include <string>

#include "agent/actions/action.h"
#include "agent/actions/pg_common.h"
#include "common/status.h"

namespace noa::agent::replication {

struct PgPromoteParams {
  actions::PgEndpoint server;
  int64_t wait_seconds = 10;
  std::string lock_dir = actions::kDefaultLockDir;

  static Result<PgPromoteParams> fromJson(const nlohmann::json& params);
};

actions::ActionResult runPgPromote(const PgPromoteParams& params,
                                   const actions::ActionContext& ctx);

}  // namespace noa::agent::replication
