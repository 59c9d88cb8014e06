#pragma once

// restore.pg_restore: restores a custom-format dump into a database of the same server. The
// data always goes into a fresh `<target>__restoring_<ts>` first (`pg_restore --exit-on-error
// -j N`), so a failed restore never damages anything; only after it succeeded and its tables
// were counted does it take the target's name:
//   - target does not exist: rename `<target>__restoring_<ts>` -> `<target>`;
//   - target exists and swap=true: block new connections to the target, terminate its sessions,
//     rename it to `<target>__old_<ts>` (kept with connections disabled, for the operator to
//     drop) and the new one to `<target>`;
//   - target exists and swap=false: refused before anything runs.
// On any failure the `__restoring_` database is dropped.

#include <nlohmann/json.hpp>
#include <string>

#include "agent/actions/action.h"
#include "agent/actions/pg_common.h"
#include "common/status.h"

namespace noa::agent::actions {

struct PgRestoreParams {
  std::string artifact;   // path of the custom-format dump; required
  std::string sha256;     // expected (lowercase hex); checked before restoring when given
  std::string target_db;  // required; at most kMaxTargetDbLength bytes
  PgEndpoint server;      // where to restore; its dbname (default "postgres") is only the
                          // maintenance database used for CREATE/ALTER DATABASE
  int64_t jobs = 0;       // pg_restore -j; 0 = number of cores
  bool swap = false;
  // A restore drill: restore into `<target>__restoring_<ts>`, count its tables, then drop it;
  // nothing is renamed and an existing `target_db` is not touched.
  bool scratch = false;
  int64_t timeout_ms = 0;
  std::string lock_dir = kDefaultLockDir;
  std::string pg_restore = "pg_restore";

  // 63 (PostgreSQL's identifier limit) minus "__restoring_" and a 16-character timestamp.
  static constexpr size_t kMaxTargetDbLength = 35;

  static Result<PgRestoreParams> fromJson(const nlohmann::json& params);
};

// details: {"database", "restored_as", "old_database" (swap only), "jobs",
//           "tables": {"schema.table": row count, ...}}
ActionResult runPgRestore(const PgRestoreParams& params, const ActionContext& ctx);

}  // namespace noa::agent::actions
