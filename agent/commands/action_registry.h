#pragma once

// The actions this agent runs, by name. A command names an action and carries JSON params;
// the registry parses them with the action's own strict reader (XxxParams::fromJson) before
// anything runs, so an unknown action or a bad parameter is refused with a message and nothing
// happens. There is deliberately no action that runs an arbitrary shell command.

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/actions/action.h"
#include "common/status.h"

namespace noa::agent::commands {

// Stable error code of a command refused because the agent has no such action.
inline constexpr const char* kErrUnknownAction = "unknown_action";

struct PreparedAction {
  // What the action works on ("pg.app", "model.llama", ...): commands with the same lane run
  // one after the other, in arrival order; different lanes run side by side. Empty: no lane,
  // it runs at once (ping). The actions also take the cross-process flock themselves
  // (actions/target_lock.h); lanes only keep this agent from tripping over its own lock.
  std::string lane;
  std::function<actions::ActionResult(const actions::ActionContext&)> run;
};

class ActionRegistry {
 public:
  // Parses `params` (InvalidArgument naming the key when they are bad) and returns what to run.
  using Preparer = std::function<Result<PreparedAction>(const nlohmann::json& params)>;

  // Adds or replaces an action.
  void add(const std::string& name, Preparer prepare);

  // Unimplemented for an unknown action (map to kErrUnknownAction), InvalidArgument for bad
  // params (map to actions::kErrInvalidParams).
  Result<PreparedAction> prepare(const std::string& action, const nlohmann::json& params) const;

  bool has(const std::string& name) const { return actions_.count(name) != 0; }
  // Sorted; the agent's `capabilities` in its hello.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, Preparer> actions_;
};

struct BuiltinActionOptions {
  // Where retention.prune takes its `lock_target` lock (the other actions have a `lock_dir`
  // param of their own with the same default).
  std::string lock_dir;  // "" = actions::kDefaultLockDir
};

// ping (no params, no lane: for round-trip checks), backup.pg_dump, backup.verify,
// restore.pg_restore, snapshot.create, snapshot.restore, model.load, retention.prune, and the
// replication actions pg.promote, pg.follow, redis.promote, redis.follow (all in the lane
// "replication", see agent/replication/).
//
// retention.prune takes two params besides PruneParams: `lock_target` (e.g. "pg.app": hold the
// target lock that backup and restore of that database take, so a prune never runs beside
// them) and `lock_dir`.
ActionRegistry builtinActions(const BuiltinActionOptions& options = {});

}  // namespace noa::agent::commands
