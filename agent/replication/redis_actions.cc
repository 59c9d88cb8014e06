#include "agent/replication/redis_actions.h"

#include <thread>

#include "agent/actions/action_params.h"
#include "agent/actions/target_lock.h"
#include "agent/replication/redis_session.h"
#include "agent/replication/replication_common.h"
#include "common/log.h"

namespace noa::agent::replication {
namespace {

using actions::ActionResult;
using actions::fail;
using std::chrono::milliseconds;

Status readTarget(const actions::ParamReader& r, RedisTarget& t, const char* action) {
  NOA_RETURN_IF_ERROR(r.str("host", t.host));
  NOA_RETURN_IF_ERROR(r.integer("port", t.port, 1, 65535, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.str("password_file", t.password_file));
  NOA_RETURN_IF_ERROR(r.integer("timeout_ms", t.timeout_ms, 10, 600000));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", t.lock_dir));
  if (t.host.empty())
    return Status::InvalidArgument(std::string(action) + ": param 'host' is empty");
  return Status::Ok();
}

// The lock and the connection every Redis replication action starts with; on failure `result`
// is filled and null is returned.
struct Opened {
  std::unique_ptr<actions::TargetLock> lock;
  std::unique_ptr<RedisSession> session;
};
Opened openTarget(const RedisTarget& t, ActionResult& result) {
  Opened o;
  auto lock = actions::TargetLock::acquire(t.lock_dir, kReplicationLane);
  if (!lock.ok()) {
    fail(result,
         lock.status().code() == StatusCode::kUnavailable ? actions::kErrBusy : actions::kErrIo,
         lock.status().message());
    return o;
  }
  RedisEndpoint e;
  e.host = t.host;
  e.port = static_cast<int>(t.port);
  e.timeout = milliseconds(t.timeout_ms);
  if (!t.password_file.empty()) {
    auto password = readSecretFile(t.password_file);
    if (!password.ok()) {
      fail(result, actions::kErrInvalidParams, password.status().message());
      return o;
    }
    e.password = *password;
  }
  auto session = RedisSession::connect(e);
  if (!session.ok()) {
    fail(result,
         session.status().code() == StatusCode::kUnauthenticated ? actions::kErrRefused
                                                                 : kErrUnreachable,
         session.status().message());
    return o;
  }
  o.lock = std::move(lock).value();
  o.session = std::move(session).value();
  return o;
}

const char* codeFor(const Status& s) {
  return s.code() == StatusCode::kUnavailable ? kErrUnreachable : actions::kErrToolFailed;
}

template <class F>
ActionResult timed(const actions::ActionContext& ctx, F body) {
  const auto started = ctx.clock->now();
  ActionResult result = body();
  result.duration = std::chrono::duration_cast<milliseconds>(ctx.clock->now() - started);
  return result;
}

}  // namespace

Result<RedisPromoteParams> RedisPromoteParams::fromJson(const nlohmann::json& json) {
  constexpr const char* kAction = "redis.promote";
  NOA_ASSIGN_OR_RETURN(
      actions::ParamReader r,
      actions::ParamReader::open(json, kAction,
                                 {"host", "port", "password_file", "timeout_ms", "lock_dir"}));
  RedisPromoteParams p;
  NOA_RETURN_IF_ERROR(readTarget(r, p.server, kAction));
  return p;
}

Result<RedisFollowParams> RedisFollowParams::fromJson(const nlohmann::json& json) {
  constexpr const char* kAction = "redis.follow";
  NOA_ASSIGN_OR_RETURN(
      actions::ParamReader r,
      actions::ParamReader::open(json, kAction,
                                 {"host", "port", "password_file", "timeout_ms", "lock_dir",
                                  "primary_host", "primary_port", "wait_seconds"}));
  RedisFollowParams p;
  NOA_RETURN_IF_ERROR(readTarget(r, p.server, kAction));
  NOA_RETURN_IF_ERROR(r.str("primary_host", p.primary_host, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.integer("primary_port", p.primary_port, 1, 65535));
  NOA_RETURN_IF_ERROR(r.integer("wait_seconds", p.wait_seconds, 0, 3600));
  if (p.primary_host.empty()) {
    return Status::InvalidArgument(std::string(kAction) + ": param 'primary_host' is empty");
  }
  if (p.primary_host == p.server.host && p.primary_port == p.server.port) {
    return Status::InvalidArgument(std::string(kAction) + ": the primary is this server itself");
  }
  return p;
}

ActionResult runRedisPromote(const RedisPromoteParams& params, const actions::ActionContext& ctx) {
  return timed(ctx, [&] {
    ActionResult result;
    Opened o = openTarget(params.server, result);
    if (!o.session) return result;
    auto before = o.session->command({"ROLE"});
    if (!before.ok()) return fail(result, codeFor(before.status()), before.status().message());
    const bool already_primary = !before->elements.empty() && before->elements[0].str == "master";
    if (!already_primary) {
      auto replicaof = o.session->command({"REPLICAOF", "NO", "ONE"});
      if (!replicaof.ok()) {
        return fail(result, codeFor(replicaof.status()), replicaof.status().message());
      }
    }
    auto role = o.session->command({"ROLE"});
    if (!role.ok()) return fail(result, codeFor(role.status()), role.status().message());
    if (role->elements.size() < 2 || role->elements[0].str != "master") {
      return fail(result, actions::kErrToolFailed,
                  "REPLICAOF NO ONE succeeded but ROLE does not say master");
    }
    auto unpaused = o.session->command({"CLIENT", "UNPAUSE"});
    if (!unpaused.ok())
      return fail(result, codeFor(unpaused.status()), unpaused.status().message());
    result.ok = true;
    result.details = {{"already_primary", already_primary},
                      {"master_repl_offset", role->elements[1].integer}};
    if (!already_primary) {
      log::info("redis promoted",
                {{"port", params.server.port}, {"master_repl_offset", role->elements[1].integer}});
    }
    return result;
  });
}

ActionResult runRedisFollow(const RedisFollowParams& params, const actions::ActionContext& ctx) {
  return timed(ctx, [&] {
    ActionResult result;
    Opened o = openTarget(params.server, result);
    if (!o.session) return result;
    auto replicaof =
        o.session->command({"REPLICAOF", params.primary_host, std::to_string(params.primary_port)});
    if (!replicaof.ok()) {
      return fail(result, codeFor(replicaof.status()), replicaof.status().message());
    }
    auto unpaused = o.session->command({"CLIENT", "UNPAUSE"});
    if (!unpaused.ok())
      return fail(result, codeFor(unpaused.status()), unpaused.status().message());
    std::string link = "down";
    const Deadline until(std::chrono::seconds(params.wait_seconds));
    while (true) {
      auto info = o.session->info("replication");
      if (!info.ok()) return fail(result, codeFor(info.status()), info.status().message());
      link = (*info)["master_link_status"];
      if (link == "up" || params.wait_seconds == 0 || until.expired()) break;
      if (ctx.cancel != nullptr && ctx.cancel->stopRequested()) break;
      // The link has no event to wait on here; bounded by wait_seconds.
      std::this_thread::sleep_for(milliseconds(50));
    }
    result.ok = true;
    result.details = {{"link_status", link.empty() ? "down" : link},
                      {"primary", params.primary_host + ":" + std::to_string(params.primary_port)}};
    log::info("redis follows a new primary",
              {{"primary", params.primary_host + ":" + std::to_string(params.primary_port)},
               {"link_status", link}});
    return result;
  });
}

}  // namespace noa::agent::replication
