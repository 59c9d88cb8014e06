#pragma once

// retention.prune: deletes the artifacts the controller chose (its policy decides; the agent
// only executes), each with its `<name>.json` manifest, and refuses anything that is pinned, in
// use by a restore, or not a file directly inside backup_dir. The result says what was deleted
// and, for every name that was not, why.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/actions/action.h"
#include "common/status.h"

namespace noa::agent::actions {

struct PruneParams {
  std::string backup_dir;              // required
  std::vector<std::string> artifacts;  // names (or paths directly inside backup_dir) to delete
  std::vector<std::string> pinned;     // names never to delete
  std::vector<std::string> in_use;     // names being restored right now
  bool dry_run = false;                // report what would go, delete nothing

  static Result<PruneParams> fromJson(const nlohmann::json& params);
};

// Why a name was kept, as reported in details.kept[].reason.
inline constexpr const char* kKeptPinned = "pinned";
inline constexpr const char* kKeptInUse = "in_use";
inline constexpr const char* kKeptOutsideDir = "outside_backup_dir";
inline constexpr const char* kKeptNotFound = "not_found";
inline constexpr const char* kKeptNotAFile = "not_a_regular_file";
inline constexpr const char* kKeptError = "error";

// details: {"deleted": [{"name", "bytes", "files": [...]}],
//           "kept": [{"name", "reason", "message"?}], "dry_run"}
// ok unless a deletion failed with an I/O error (kErrIo); refusals are not failures.
ActionResult runPrune(const PruneParams& params, const ActionContext& ctx);

// The artifact's plain name when `name_or_path` designates a file directly inside `backup_dir`
// (lexically: "a.dump", "/backups/a.dump"), empty otherwise ("../x", "/etc/passwd", "sub/a").
std::string artifactNameInDir(const std::string& backup_dir, const std::string& name_or_path);

}  // namespace noa::agent::actions
