#include "agent/runtime/agent_commands.h"

#include <filesystem>

#include "agent/actions/artifact_file.h"
#include "agent/commands/action_defaults.h"
#include "common/log.h"

namespace noa::agent {

Result<std::unique_ptr<commands::CommandExecutor>> openCommandExecutor(const AgentConfig& config,
                                                                       const Clock& clock) {
  if (config.actions.empty()) return std::unique_ptr<commands::CommandExecutor>();
  std::error_code ec;
  std::filesystem::create_directories(config.lock_dir, ec);
  if (ec) {
    return Status::InvalidArgument("--lock-dir '" + config.lock_dir +
                                   "' cannot be created: " + ec.message());
  }
  commands::AgentActionDefaults defaults;
  defaults.pg_conninfo = config.pg_conninfo;
  if (defaults.pg_conninfo.empty()) {
    defaults.pg_host = config.service_host;
    defaults.pg_port = config.service_port;
  }
  defaults.backup_dir = config.backup_dir;
  defaults.snapshot_dir = config.snapshot_dir;
  defaults.models_dir = config.models_dir;
  defaults.lock_dir = config.lock_dir;
  NOA_ASSIGN_OR_RETURN(
      commands::ActionRegistry registry,
      commands::agentActions(commands::builtinActions({config.lock_dir}), config.actions, defaults));

  // A previous run killed mid-write left `.partial` files: never artifacts, safe to remove.
  for (const std::string& dir : {config.backup_dir, config.snapshot_dir}) {
    if (dir.empty() || !std::filesystem::is_directory(dir, ec)) continue;
    auto removed = actions::removeStalePartials(dir);
    if (!removed.ok()) {
      log::warn("cannot clear stale partial files", {{"dir", dir}, {"error", removed.status().toString()}});
    } else if (*removed > 0) {
      log::info("stale partial files removed", {{"dir", dir}, {"count", *removed}});
    }
  }

  commands::ExecutorOptions options;
  options.state_dir = config.state_dir;
  auto executor = commands::CommandExecutor::open(options, std::move(registry), clock);
  if (!executor.ok()) return executor.status().withContext("command journal in " + config.state_dir);
  log::info("command channel ready", {{"actions", config.actions}, {"lock_dir", config.lock_dir}});
  return std::move(executor).value();
}

}  // namespace noa::agent
