#include "agent/commands/action_registry.h"

#include <filesystem>

#include "agent/actions/model_load_action.h"
#include "agent/actions/pg_common.h"
#include "agent/actions/pg_dump_action.h"
#include "agent/actions/pg_restore_action.h"
#include "agent/actions/retention_action.h"
#include "agent/actions/snapshot_action.h"
#include "agent/actions/target_lock.h"
#include "agent/actions/verify_action.h"
#include "agent/replication/pg_follow_action.h"
#include "agent/replication/pg_promote_action.h"
#include "agent/replication/redis_actions.h"
#include "agent/replication/replication_common.h"

namespace noa::agent::commands {
namespace {

namespace fs = std::filesystem;
using actions::ActionContext;
using actions::ActionResult;
using nlohmann::json;

std::string dirLane(const std::string& prefix, const std::string& dir) {
  fs::path normal = fs::path(dir.empty() ? "." : dir).lexically_normal();
  // "/backups/" and "/backups" are one directory: a verify (which names the directory as its
  // artifact's parent, no trailing '/') must share the lane of a prune given either spelling.
  if (!normal.has_filename() && normal != normal.root_path()) normal = normal.parent_path();
  return prefix + normal.string();
}

// Adapts `XxxParams::fromJson` + `runXxx` to a Preparer; `lane` computes the lane from the
// parsed params.
template <class Params, class Run, class Lane>
ActionRegistry::Preparer typed(Run run, Lane lane) {
  return [run, lane](const json& params) -> Result<PreparedAction> {
    NOA_ASSIGN_OR_RETURN(Params p, Params::fromJson(params));
    std::string name = lane(p);
    return PreparedAction{std::move(name),
                          [run, p](const ActionContext& ctx) { return run(p, ctx); }};
  };
}

Result<PreparedAction> preparePing(const json& params) {
  if (!params.is_object() || !params.empty()) {
    return Status::InvalidArgument("ping: takes no params");
  }
  return PreparedAction{"", [](const ActionContext&) {
                          ActionResult r;
                          r.ok = true;
                          r.details = {{"pong", true}};
                          return r;
                        }};
}

Result<PreparedAction> preparePrune(const json& params, const std::string& default_lock_dir) {
  if (!params.is_object()) return Status::InvalidArgument("retention.prune: expected an object");
  json rest = params;
  std::string lock_target;
  std::string lock_dir = default_lock_dir;
  for (const char* key : {"lock_target", "lock_dir"}) {
    auto it = rest.find(key);
    if (it == rest.end()) continue;
    if (!it->is_string()) {
      return Status::InvalidArgument(std::string("retention.prune: ") + key + ": expected string");
    }
    (std::string(key) == "lock_target" ? lock_target : lock_dir) = it->get<std::string>();
    rest.erase(it);
  }
  NOA_ASSIGN_OR_RETURN(actions::PruneParams p, actions::PruneParams::fromJson(rest));
  std::string lane = lock_target.empty() ? dirLane("prune:", p.backup_dir) : lock_target;
  return PreparedAction{std::move(lane), [p, lock_target, lock_dir](const ActionContext& ctx) {
                          std::unique_ptr<actions::TargetLock> lock;
                          if (!lock_target.empty()) {
                            auto taken = actions::TargetLock::acquire(lock_dir, lock_target);
                            if (!taken.ok()) {
                              ActionResult r;
                              r.error_code = taken.status().code() == StatusCode::kUnavailable
                                                 ? actions::kErrBusy
                                                 : actions::kErrIo;
                              r.error = taken.status().message();
                              return r;
                            }
                            lock = std::move(taken).value();
                          }
                          return actions::runPrune(p, ctx);
                        }};
}

}  // namespace

void ActionRegistry::add(const std::string& name, Preparer prepare) {
  actions_[name] = std::move(prepare);
}

Result<PreparedAction> ActionRegistry::prepare(const std::string& action,
                                               const json& params) const {
  auto it = actions_.find(action);
  if (it == actions_.end()) {
    return Status::Unimplemented("this agent has no action '" + action + "'; it runs: " + [this] {
      std::string out;
      for (const auto& n : names()) out += (out.empty() ? "" : ", ") + n;
      return out.empty() ? std::string("none") : out;
    }());
  }
  auto prepared = it->second(params);
  if (!prepared.ok() && prepared.status().code() != StatusCode::kInvalidArgument) {
    return Status::InvalidArgument(prepared.status().message());
  }
  return prepared;
}

std::vector<std::string> ActionRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, prepare] : actions_) out.push_back(name);
  return out;
}

ActionRegistry builtinActions(const BuiltinActionOptions& options) {
  using namespace actions;  // NOLINT: the action types, in one function
  const std::string lock_dir = options.lock_dir.empty() ? kDefaultLockDir : options.lock_dir;
  ActionRegistry r;
  r.add("ping", preparePing);
  r.add("backup.pg_dump", typed<PgDumpParams>(runPgDump, [](const PgDumpParams& p) {
          auto kw = p.source.keywords();
          return pgLockTarget(kw.ok() ? (*kw)["dbname"] : p.source.dbname);
        }));
  r.add("restore.pg_restore", typed<PgRestoreParams>(runPgRestore, [](const PgRestoreParams& p) {
          return pgLockTarget(p.target_db);
        }));
  r.add("snapshot.create",
        typed<SnapshotCreateParams>(runSnapshotCreate, [](const SnapshotCreateParams& p) {
          return p.target.empty() ? dirLane("dir:", p.source_dir) : p.target;
        }));
  r.add("snapshot.restore",
        typed<SnapshotRestoreParams>(runSnapshotRestore, [](const SnapshotRestoreParams& p) {
          return p.target.empty() ? dirLane("dir:", p.target_dir) : p.target;
        }));
  r.add("model.load", typed<ModelLoadParams>(runModelLoad, [](const ModelLoadParams& p) {
          return p.target.empty() ? dirLane("model:", p.models_dir) : p.target;
        }));
  // Same lane as a prune of the artifact's directory (without lock_target), so a verify never
  // reads a file that a prune is deleting: the two run one after the other.
  r.add("backup.verify", typed<VerifyParams>(runVerify, [](const VerifyParams& p) {
          return dirLane("prune:", fs::path(p.artifact).parent_path().string());
        }));
  r.add("retention.prune",
        [lock_dir](const json& params) { return preparePrune(params, lock_dir); });
  // One lane for every replication action: a promote and a follow of the same server must never
  // run side by side (the actions also share one target lock, replication_common.h).
  const auto replication_lane = [](const auto&) {
    return std::string(replication::kReplicationLane);
  };
  r.add("pg.promote",
        typed<replication::PgPromoteParams>(replication::runPgPromote, replication_lane));
  r.add("pg.follow",
        typed<replication::PgFollowParams>(replication::runPgFollow, replication_lane));
  r.add("redis.promote",
        typed<replication::RedisPromoteParams>(replication::runRedisPromote, replication_lane));
  r.add("redis.follow",
        typed<replication::RedisFollowParams>(replication::runRedisFollow, replication_lane));
  return r;
}

}  // namespace noa::agent::commands
