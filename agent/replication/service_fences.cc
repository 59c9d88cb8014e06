#include "agent/replication/service_fences.h"

#include "agent/actions/target_lock.h"
#include "common/log.h"

namespace noa::agent::replication {
namespace {

// Null (and Ok) without a lock_dir; Unavailable while a replication action holds the lock.
Result<std::unique_ptr<actions::TargetLock>> lockForUnfence(const FenceOptions& options) {
  if (options.lock_dir.empty()) return std::unique_ptr<actions::TargetLock>();
  auto lock = actions::TargetLock::acquire(options.lock_dir, kReplicationLane);
  if (!lock.ok()) return lock.status().withContext("unfence waits for a replication action");
  return std::move(lock).value();
}

}  // namespace

std::string pgPingConninfo(const std::string& conninfo, const std::string& host, int port) {
  if (!conninfo.empty()) return conninfo;
  std::string out = "host=" + conninfoValue(host.empty() ? "127.0.0.1" : host);
  if (port > 0) out += " port=" + std::to_string(port);
  return out + " user=" + kDefaultPgUser + " dbname=postgres connect_timeout=2";
}

Result<PgControl> PgStopFence::control() const {
  PgControlOptions o;
  o.data_dir = options_.pg_data_dir;
  o.bin_dir = options_.pg_bin_dir;
  o.ping_conninfo =
      pgPingConninfo(options_.pg_conninfo, options_.service_host, options_.service_port);
  return PgControl::open(std::move(o));
}

Status PgStopFence::fence() {
  NOA_ASSIGN_OR_RETURN(PgControl pg, control());
  if (!pg.running()) return Status::Ok();
  Status stopped = pg.stop(options_.stop_timeout);
  if (stopped.ok()) log::warn("postgres fenced: stopped", {{"data_dir", pg.dataDir()}});
  return stopped.withContext("fence postgres");
}

Status PgStopFence::unfence() {
  NOA_ASSIGN_OR_RETURN(auto lock, lockForUnfence(options_));
  NOA_ASSIGN_OR_RETURN(PgControl pg, control());
  if (pg.running()) return Status::Ok();
  Status started = pg.start(options_.start_timeout);
  if (started.ok()) log::info("postgres unfenced: started", {{"data_dir", pg.dataDir()}});
  return started.withContext("unfence postgres");
}

Result<RedisEndpoint> RedisPauseFence::endpoint() const {
  RedisEndpoint e;
  e.host = options_.service_host.empty() ? "127.0.0.1" : options_.service_host;
  e.port = options_.service_port;
  e.timeout = options_.redis_timeout;
  if (!options_.redis_password_file.empty()) {
    NOA_ASSIGN_OR_RETURN(e.password, readSecretFile(options_.redis_password_file));
  }
  return e;
}

Status RedisPauseFence::fence() {
  NOA_ASSIGN_OR_RETURN(RedisEndpoint e, endpoint());
  bool refused = false;
  auto session = RedisSession::connect(e, &refused);
  if (!session.ok()) {
    if (refused) return Status::Ok();  // nothing listens: nothing can write
    return session.status().withContext("fence redis");
  }
  auto paused = (*session)->command({"CLIENT", "PAUSE", "86400000", "WRITE"});
  if (!paused.ok()) return paused.status().withContext("fence redis");
  log::warn("redis fenced: writes paused", {{"port", e.port}});
  return Status::Ok();
}

Status RedisPauseFence::unfence() {
  NOA_ASSIGN_OR_RETURN(auto lock, lockForUnfence(options_));
  NOA_ASSIGN_OR_RETURN(RedisEndpoint e, endpoint());
  NOA_ASSIGN_OR_RETURN(auto session, RedisSession::connect(e));
  auto unpaused = session->command({"CLIENT", "UNPAUSE"});
  if (!unpaused.ok()) return unpaused.status().withContext("unfence redis");
  log::info("redis unfenced: writes resumed", {{"port", e.port}});
  return Status::Ok();
}

std::unique_ptr<ServiceFence> makeServiceFence(const std::string& kind,
                                               const FenceOptions& options) {
  if (kind == "postgres") return std::make_unique<PgStopFence>(options);
  if (kind == "redis") return std::make_unique<RedisPauseFence>(options);
  return nullptr;
}

}  // namespace noa::agent::replication
