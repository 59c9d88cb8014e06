#pragma once

// redis.promote and redis.follow: the Redis side of a failover, each on one connection.
//   redis.promote  REPLICAOF NO ONE, ROLE must then say master (same connection), CLIENT
//                  UNPAUSE (a fenced old master being kept as primary writes again).
//                  Details: {already_primary, master_repl_offset}.
//   redis.follow   REPLICAOF primary_host primary_port, CLIENT UNPAUSE (a replica refuses
//                  client writes itself with replica-read-only), then up to wait_seconds
//                  (0..3600, default 5) for master_link_status:up; a link still down after
//                  the wait is reported, not a failure (the replica keeps trying).
//                  Details: {link_status: "up"|"down", primary: "host:port"}.
// Common params: host, port (the agent's own server), password_file (AUTH; the replica's
// masterauth must be configured in redis.conf), timeout_ms (per reply, default 5000), lock_dir.
// Errors: unreachable, tool_failed (an error reply), invalid_params, busy.

#include <nlohmann/json.hpp>
#include <string>

#include "agent/actions/action.h"
#include "agent/actions/pg_common.h"
#include "common/status.h"

namespace noa::agent::replication {

struct RedisTarget {
  std::string host = "127.0.0.1";
  int64_t port = 0;
  std::string password_file;
  int64_t timeout_ms = 5000;
  std::string lock_dir = actions::kDefaultLockDir;
};

struct RedisPromoteParams {
  RedisTarget server;
  static Result<RedisPromoteParams> fromJson(const nlohmann::json& params);
};

struct RedisFollowParams {
  RedisTarget server;
  std::string primary_host;
  int64_t primary_port = 6379;
  int64_t wait_seconds = 5;
  static Result<RedisFollowParams> fromJson(const nlohmann::json& params);
};

actions::ActionResult runRedisPromote(const RedisPromoteParams& params,
                                      const actions::ActionContext& ctx);
actions::ActionResult runRedisFollow(const RedisFollowParams& params,
                                     const actions::ActionContext& ctx);

}  // namespace noa::agent::replication
