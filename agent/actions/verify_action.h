#pragma once

// backup.verify: re-checks an artifact the controller's backup catalog recorded, on the host that
// holds it, without restoring it anywhere: the file must still hash to the recorded SHA-256 (a
// flipped byte is a checksum_mismatch) and must still be readable by its own tool (a pg_dump
// custom-format file by `pg_restore --list`, a snapshot by reading its tar + zstd archive to the
// end). Read-only: it creates, moves and deletes nothing.
//
// backup.pg_dump runs the same pg_dump check on each dump it has just written
// (verifyPgDumpFile), so what "a verified dump" means is written once.

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/actions/action.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/stop_token.h"

namespace noa::agent::actions {

inline constexpr const char* kVerifyKindPgDump = "pg_dump";
inline constexpr const char* kVerifyKindSnapshot = "snapshot";

struct VerifyParams {
  std::string artifact;  // required: path of the stored file
  std::string sha256;    // required: 64 hex digits (any case; kept lowercase), as catalogued
  // "pg_dump" | "snapshot"; when absent it follows the file name: ".dump" -> pg_dump,
  // ".tar.zst" -> snapshot, anything else is refused.
  std::string kind;
  int64_t timeout_ms = 0;                 // 0 = the context's timeout only
  std::string pg_restore = "pg_restore";  // binary (PATH lookup) or full path; pg_dump kind only
  // Accepted so that the agent's defaults (which fill lock_dir for every action) and a
  // controller sending the same target as for backup/restore are not refused. Verify takes no
  // lock: it only reads, and the agent's lane keeps it from running beside a prune of the same
  // directory.
  std::string lock_dir;
  std::string target;

  static Result<VerifyParams> fromJson(const nlohmann::json& params);
};

// Budget and hooks of one artifact check. backup.pg_dump passes the time its action has left;
// backup.verify passes its whole timeout.
struct ArtifactCheckControl {
  const StopToken* cancel = nullptr;  // checked between blocks and while the tool runs
  const Clock* clock = &systemClock();
  std::chrono::milliseconds timeout{0};              // the whole check; 0 = none
  std::function<void(const Progress&)> on_progress;  // phases "hash", "list"; may be empty
};

// Re-hashes the pg_dump custom-format file at `path`, compares the digest with
// `expected_sha256` (any case), then runs `<pg_restore> --list` on it and counts its TOC entries
// (listed lines not starting with ';'). On success: ok, bytes, sha256 (actual, lowercase) and
// details {"kind": "pg_dump", "sha256", "size", "toc_entries"}. On failure error_code is one of
//   io_error           the file cannot be read
//   checksum_mismatch  it hashes to something else (both digests in the message)
//   verify_failed      pg_restore cannot list it (stderr_tail holds pg_restore's stderr)
//   tool_missing       pg_restore is not there (tool_failed: it exists but cannot be started)
//   cancelled, timeout
// artifact_path and duration are left to the caller.
ActionResult verifyPgDumpFile(const std::string& path, const std::string& expected_sha256,
                              const std::string& pg_restore, const ArtifactCheckControl& control);

// Errors as verifyPgDumpFile, and io_error naming the path when `artifact` is not a regular
// file; details {"kind", "sha256", "size", "toc_entries" | "archive_entries"}.
ActionResult runVerify(const VerifyParams& params, const ActionContext& ctx);

}  // namespace noa::agent::actions
