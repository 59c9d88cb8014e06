#pragma once

// backup.pg_dump: a logical backup of one database in pg_dump's custom format, streamed from
// pg_dump's stdout through an ArtifactWriter (SHA-256 on the fly, partial -> fsync -> rename),
// with a `<artifact>.json` manifest beside it, then verified (re-hash, `pg_restore --list`).
//
// Compression default = "none" (`-Fc -Z0`). Why: PostgreSQL 15's pg_dump offers only gzip for
// -Fc, which costs ~5.5x the dump time on realistic data (reference section 4: 14.6 s vs 2.7 s
// for 900 MB); compressing with zstd in-process instead would produce a file pg_restore cannot
// read directly (no `pg_restore -j`, no `--list` without decompressing to a temporary file first).
// An uncompressed custom-format dump restores in parallel as is. "gzip" / "gzip:N" (1..9) is
// there when disk matters more than CPU.

#include <nlohmann/json.hpp>
#include <string>

#include "agent/actions/action.h"
#include "agent/actions/pg_common.h"
#include "common/status.h"

namespace noa::agent::actions {

struct PgDumpParams {
  PgEndpoint source;                 // which server and database to dump (dbname required)
  std::string backup_dir;            // required; must exist
  std::string name;                  // artifact file name; default "<db>-<yyyymmddThhmmssZ>.dump"
  std::string compression = "none";  // "none" | "gzip" | "gzip:1".."gzip:9"
  int64_t timeout_ms = 0;            // 0 = the context's timeout only
  bool verify = true;                // re-hash + `pg_restore --list` after writing
  std::string lock_dir = kDefaultLockDir;
  std::string pg_dump = "pg_dump";        // binary (PATH lookup) or full path
  std::string pg_restore = "pg_restore";  // used by verify
  // Free space required before starting = database size x this factor.
  double space_factor = 1.2;

  static Result<PgDumpParams> fromJson(const nlohmann::json& params);
  // pg_dump's -Z level for `compression`.
  int zLevel() const;
};

ActionResult runPgDump(const PgDumpParams& params, const ActionContext& ctx);

}  // namespace noa::agent::actions
