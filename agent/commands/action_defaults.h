#pragma once

// What an agent knows about its own service that the controller should not have to repeat in
// every command: how its actions reach the local PostgreSQL, where backups, snapshots and models
// live on this host, where the target locks are. A param the command leaves out takes the
// agent's default; a param the command gives always wins. Which actions an agent offers at all
// is chosen here too (a redis agent has no business running pg_dump).

#include <string>
#include <vector>

#include "agent/commands/action_registry.h"
#include "common/status.h"

namespace noa::agent::commands {

struct AgentActionDefaults {
  // PostgreSQL actions: used when the command names none of conninfo/host/port. May hold a
  // password (never logged: the actions pass it to tools as PGPASSWORD).
  std::string pg_conninfo;
  std::string pg_host;
  int pg_port = 0;
  std::string backup_dir;    // backup.pg_dump, restore (artifact names), retention.prune
  std::string snapshot_dir;  // snapshot.create
  std::string models_dir;    // model.load
  std::string lock_dir;      // every action that takes a target lock
  // pg.follow: the local cluster, and the name it streams under (application_name, what
  // synchronous_standby_names lists): the agent id.
  std::string pg_data_dir;
  std::string pg_bin_dir;
  std::string agent_id;
  // redis.promote, redis.follow: the local server (password_file: read by the action).
  std::string redis_host;
  int redis_port = 0;
  std::string redis_password_file;
};

// The actions an agent of `kind` offers by default:
//   postgres  ping, backup.pg_dump, restore.pg_restore, retention.prune, snapshot.create,
//             snapshot.restore, backup.verify, pg.promote, pg.follow
//   redis     ping, snapshot.create, snapshot.restore, retention.prune, backup.verify,
//             redis.promote, redis.follow
//   llama     ping, model.load, snapshot.create, snapshot.restore, retention.prune, backup.verify
//   others    ping, snapshot.create, snapshot.restore, retention.prune, backup.verify
std::vector<std::string> defaultActionsFor(const std::string& kind);

// A registry with only `names` (InvalidArgument naming an unknown one), each filling in the
// params it lacks from `defaults` before its own strict parsing.
Result<ActionRegistry> agentActions(const ActionRegistry& all, const std::vector<std::string>& names,
                                    const AgentActionDefaults& defaults);

// The params of `action` with the agent's defaults filled in (exposed for tests).
nlohmann::json withDefaults(const std::string& action, nlohmann::json params,
                            const AgentActionDefaults& defaults);

}  // namespace noa::agent::commands
