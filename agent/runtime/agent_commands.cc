#include "agent/runtime/agent_commands.h"

#include <filesystem>
#include <memory>

#include "agent/actions/artifact_file.h"
#include "agent/commands/action_defaults.h"
#include "common/log.h"

namespace noa::agent {

namespace {

// `fence` and `unfence` take no params; one lane, so an unfence never overtakes a fence.
commands::ActionRegistry::Preparer fenceAction(
    AgentFencing* fencing, actions::ActionResult (AgentFencing::*run)(const actions::ActionContext&)) {
  return [fencing, run](const nlohmann::json& params) -> Result<commands::PreparedAction> {
    if (!params.is_null() && !(params.is_object() && params.empty())) {
      return Status::InvalidArgument("takes no params");
    }
    commands::PreparedAction prepared;
    prepared.lane = "fence";
    prepared.run = [fencing, run](const actions::ActionContext& context) {
      return (fencing->*run)(context);
    };
    return prepared;
  };
}

// A promotion runs only under the leader lease (AgentFencing::awaitLease says why).
commands::ActionRegistry::Preparer leasedPromotion(std::shared_ptr<const commands::ActionRegistry> all,
                                                   std::string name, AgentFencing* fencing) {
  return [all, name, fencing](const nlohmann::json& params) -> Result<commands::PreparedAction> {
    NOA_ASSIGN_OR_RETURN(commands::PreparedAction prepared, all->prepare(name, params));
    prepared.run = [run = std::move(prepared.run), fencing](const actions::ActionContext& context) {
      if (Status leased = fencing->awaitLease(context); !leased.ok()) {
        actions::ActionResult refused;
        refused.error_code = leased.code() == StatusCode::kCancelled ? actions::kErrCancelled
                                                                      : actions::kErrRefused;
        refused.error = leased.message();
        return refused;
      }
      return run(context);
    };
    return prepared;
  };
}

}  // namespace

Result<std::unique_ptr<commands::CommandExecutor>> openCommandExecutor(
    const AgentConfig& config, const Clock& clock, AgentFencing* fencing) {
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
  defaults.pg_data_dir = config.pg_data_dir;
  defaults.pg_bin_dir = config.pg_bin_dir;
  defaults.agent_id = config.agent_id;
  defaults.redis_host = config.service_host;
  defaults.redis_port = config.service_port;
  defaults.redis_password_file = config.redis_password_file;
  NOA_ASSIGN_OR_RETURN(
      commands::ActionRegistry registry,
      commands::agentActions(commands::builtinActions({config.lock_dir}), config.actions, defaults));
  if (fencing != nullptr) {
    auto unwrapped = std::make_shared<const commands::ActionRegistry>(registry);
    for (const char* promote : {"pg.promote", "redis.promote"}) {
      if (registry.has(promote)) registry.add(promote, leasedPromotion(unwrapped, promote, fencing));
    }
    registry.add("fence", fenceAction(fencing, &AgentFencing::runFence));
    registry.add("unfence", fenceAction(fencing, &AgentFencing::runUnfence));
  }

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

  const std::vector<std::string> registry_names = registry.names();
  commands::ExecutorOptions options;
  options.state_dir = config.state_dir;
  auto executor = commands::CommandExecutor::open(options, std::move(registry), clock);
  if (!executor.ok()) return executor.status().withContext("command journal in " + config.state_dir);
  log::info("command channel ready", {{"actions", registry_names}, {"lock_dir", config.lock_dir}});
  return std::move(executor).value();
}

}  // namespace noa::agent
