#include "agent/commands/action_defaults.h"

#include <algorithm>
#include <memory>

namespace noa::agent::commands {
namespace {

using nlohmann::json;

void fill(json& params, const char* key, const std::string& value) {
  if (!value.empty() && !params.contains(key)) params[key] = value;
}

bool isPgAction(const std::string& action) {
  return action == "backup.pg_dump" || action == "restore.pg_restore" || action == "pg.promote" ||
         action == "pg.follow";
}

}  // namespace

std::vector<std::string> defaultActionsFor(const std::string& kind) {
  if (kind == "postgres") {
    return {"ping",
            "backup.pg_dump",
            "restore.pg_restore",
            "retention.prune",
            "snapshot.create",
            "snapshot.restore",
            "backup.verify",
            "pg.promote",
            "pg.follow"};
  }
  if (kind == "redis") {
    return {"ping",          "snapshot.create", "snapshot.restore", "retention.prune",
            "backup.verify", "redis.promote",   "redis.follow"};
  }
  if (kind == "llama") {
    return {"ping",         "model.load", "snapshot.create", "snapshot.restore", "retention.prune",
            "backup.verify"};
  }
  return {"ping", "snapshot.create", "snapshot.restore", "retention.prune", "backup.verify"};
}

json withDefaults(const std::string& action, json params, const AgentActionDefaults& defaults) {
  if (!params.is_object() || action == "ping") return params;
  if (isPgAction(action) && !params.contains("conninfo") && !params.contains("host") &&
      !params.contains("port")) {
    if (!defaults.pg_conninfo.empty()) {
      params["conninfo"] = defaults.pg_conninfo;
    } else {
      fill(params, "host", defaults.pg_host);
      if (defaults.pg_port > 0) params["port"] = defaults.pg_port;
    }
  }
  if (action == "backup.pg_dump" || action == "retention.prune") {
    fill(params, "backup_dir", defaults.backup_dir);
  }
  if (action == "snapshot.create") fill(params, "snapshot_dir", defaults.snapshot_dir);
  if (action == "model.load") fill(params, "models_dir", defaults.models_dir);
  if (action == "pg.follow") {
    fill(params, "data_dir", defaults.pg_data_dir);
    fill(params, "bin_dir", defaults.pg_bin_dir);
    fill(params, "application_name", defaults.agent_id);
  }
  if ((action == "redis.promote" || action == "redis.follow") && !params.contains("host") &&
      !params.contains("port")) {
    fill(params, "host", defaults.redis_host);
    if (defaults.redis_port > 0) params["port"] = defaults.redis_port;
  }
  if (action == "redis.promote" || action == "redis.follow") {
    fill(params, "password_file", defaults.redis_password_file);
  }
  fill(params, "lock_dir", defaults.lock_dir);
  return params;
}

Result<ActionRegistry> agentActions(const ActionRegistry& all,
                                    const std::vector<std::string>& names,
                                    const AgentActionDefaults& defaults) {
  auto shared = std::make_shared<const ActionRegistry>(all);
  ActionRegistry out;
  for (const std::string& name : names) {
    if (!all.has(name)) {
      std::string known;
      for (const auto& n : all.names()) known += (known.empty() ? "" : ", ") + n;
      return Status::InvalidArgument("unknown action '" + name + "' (known: " + known + ")");
    }
    out.add(name, [shared, name, defaults](const json& params) {
      return shared->prepare(name, withDefaults(name, params, defaults));
    });
  }
  return out;
}

}  // namespace noa::agent::commands
