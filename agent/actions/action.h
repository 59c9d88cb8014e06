#pragma once

// What every agent-side action (backup, restore, snapshot, model load, retention) takes and
// returns, so the command channel can run any of them the same way: typed parameters in, a
// progress callback and a cancel token on the side, one ActionResult out.
//
// An action never throws and never leaves a partial artifact behind: on failure, timeout or
// cancel it removes its `.partial` files and reports a stable error code.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "common/stop_token.h"

namespace noa::agent::actions {

// Stable error codes carried in results (the controller and operators match on them).
inline constexpr const char* kErrInvalidParams = "invalid_params";
inline constexpr const char* kErrNoSpace = "no_space";
inline constexpr const char* kErrToolFailed = "tool_failed";
inline constexpr const char* kErrToolMissing = "tool_missing";
inline constexpr const char* kErrTimeout = "timeout";
inline constexpr const char* kErrCancelled = "cancelled";
inline constexpr const char* kErrVerifyFailed = "verify_failed";
inline constexpr const char* kErrChecksumMismatch = "checksum_mismatch";
inline constexpr const char* kErrRefused = "refused";  // e.g. snapshot of a running PostgreSQL
inline constexpr const char* kErrIo = "io_error";
inline constexpr const char* kErrBusy = "busy";  // another action holds the target's lock
inline constexpr const char* kErrHealthTimeout = "health_timeout";

// The stable code for a Status from the building blocks (artifact writer, lock, archive, fetch):
// what the controller and an operator match on when the action fails.
inline const char* errorCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
      return kErrNoSpace;
    case StatusCode::kCancelled:
      return kErrCancelled;
    case StatusCode::kDeadlineExceeded:
      return kErrTimeout;
    case StatusCode::kUnavailable:
      return kErrBusy;
    case StatusCode::kInvalidArgument:
      return kErrInvalidParams;
    case StatusCode::kCorruption:
      return kErrVerifyFailed;
    default:
      return kErrIo;
  }
}

struct Progress {
  std::string phase;  // e.g. "dump", "verify", "fsync", "done"
  uint64_t bytes_done = 0;
  uint64_t bytes_total_estimate = 0;  // 0 = unknown
};

struct ActionContext {
  // Called at most every ~1 s (and at phase changes) from the action's thread.
  std::function<void(const Progress&)> on_progress;
  const StopToken* cancel = nullptr;     // checked often; null = not cancellable
  std::chrono::milliseconds timeout{0};  // whole action; 0 = none
  const Clock* clock = &systemClock();
  // The command this run belongs to: written into the artifact's manifest, so that a restart
  // can tell this command's artifact from another's (artifact_recovery.h). Empty outside one.
  std::string command_id;
  // Records the final artifact path durably (the command journal) before any byte of it is
  // written, so a restart after a kill -9 knows what to adopt or remove. Null: not recorded.
  std::function<Status(const std::string& artifact_path)> claim_artifact;
};

// Claims `path` (ActionContext::claim_artifact) when the context records claims.
inline Status claimArtifact(const ActionContext& ctx, const std::string& path) {
  return ctx.claim_artifact ? ctx.claim_artifact(path) : Status::Ok();
}

struct ActionResult {
  bool ok = false;
  std::string error_code;  // one of kErr* when !ok
  std::string error;       // human-readable, names what failed and what to do
  std::chrono::milliseconds duration{0};
  uint64_t bytes = 0;         // artifact size (or bytes restored / installed)
  std::string sha256;         // of the artifact, lowercase hex; empty when none
  std::string artifact_path;  // final path of the artifact written, if any
  std::string stderr_tail;    // last lines of the tool's stderr, if a tool ran
  nlohmann::json details = nlohmann::json::object();  // action-specific (manifest, row counts, ...)
};

}  // namespace noa::agent::actions
