#pragma once

// snapshot.create / snapshot.restore: a directory tree (a data volume, or a *stopped* PostgreSQL
// data directory) archived as tar (pax) + zstd with libarchive, and restored into a sibling
// directory that is swapped in only when it is complete and fsync'd.
//
// Create streams the archive through an ArtifactWriter (`<name>.partial`, hashed on the fly,
// fsync, rename) and writes `<name>.json` beside it. Restore verifies the expected SHA-256 first,
// extracts with libarchive's secure flags (no "..", no absolute paths, no writing through
// symlinks) into `<target>.restoring-<stamp>`, fsyncs every file and directory, then swaps.
// Both refuse a directory whose postmaster.pid names a live process: a live data directory
// copied file by file is not a consistent backup.

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "agent/actions/action.h"
#include "common/status.h"

namespace noa::agent::actions {

struct SnapshotCreateParams {
  std::string source_dir;
  std::string snapshot_dir;
  std::string name;      // default "<basename>-<UTC stamp>.tar.zst"
  int zstd_level = 1;    // 1..19; 1 measured ~500 MB/s with 2 threads here
  int threads = 2;       // zstd worker threads (0 = single-threaded)
  std::string lock_dir;  // with `target`: hold `<lock_dir>/<target>.lock` while running
  std::string target;

  static Result<SnapshotCreateParams> fromJson(const nlohmann::json& params);
};

struct SnapshotRestoreParams {
  std::string artifact;         // path of the .tar.zst
  std::string expected_sha256;  // lowercase or uppercase hex
  std::string target_dir;       // replaced as a whole; its parent must exist
  std::string lock_dir;
  std::string target;

  static Result<SnapshotRestoreParams> fromJson(const nlohmann::json& params);
};

ActionResult runSnapshotCreate(const SnapshotCreateParams& params, const ActionContext& ctx);
ActionResult runSnapshotRestore(const SnapshotRestoreParams& params, const ActionContext& ctx);

// The pid in `<dir>/postmaster.pid` when that process is alive; nullopt when there is no pid
// file or its process is gone (a stale file after a crash does not block a snapshot).
std::optional<pid_t> livePostmasterPid(const std::string& dir);

}  // namespace noa::agent::actions
