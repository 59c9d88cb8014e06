#pragma once

// The ServiceFence implementations (service_fence.h) and the factory the agent uses to pick one
// for its --kind.

#include <chrono>
#include <memory>
#include <string>

#include "agent/replication/pg_control.h"
#include "agent/replication/redis_session.h"
#include "agent/replication/service_fence.h"

namespace noa::agent::replication {

struct FenceOptions {
  // postgres: the data dir is required; ping_conninfo (or host/port) tells when a restarted
  // server accepts connections again.
  std::string pg_data_dir;
  std::string pg_bin_dir = kDefaultPgBinDir;
  std::string pg_conninfo;  // may hold a password; only used for PQping
  // Both kinds: the service's address (postgres: when pg_conninfo is empty).
  std::string service_host = "127.0.0.1";
  int service_port = 0;
  std::string redis_password_file;  // read at each call, so a rotated password is picked up
  std::chrono::milliseconds stop_timeout{30000};
  std::chrono::milliseconds start_timeout{60000};
  std::chrono::milliseconds redis_timeout{3000};
  // When set, unfence() takes the replication actions' target lock (replication_common.h) and
  // is Unavailable while one of them runs: a pg.follow that has stopped a server to rewind it
  // must not see it started under its feet. fence() never waits for the lock: stopping writes
  // always goes first.
  std::string lock_dir;
};

// fence = fast shutdown; unfence = start from postmaster.opts (a no-op when running).
class PgStopFence : public ServiceFence {
 public:
  explicit PgStopFence(FenceOptions options) : options_(std::move(options)) {}
  Status fence() override;
  Status unfence() override;
  std::string_view method() const override { return "pg_stop"; }

 private:
  Result<PgControl> control() const;
  FenceOptions options_;
};

// fence = CLIENT PAUSE 86400000 WRITE (a day: the pause must outlast any outage the controller
// can sit through, and unfence or a promote/follow lifts it); unfence = CLIENT UNPAUSE. A server
// that refuses the connection is not running, which counts as fenced.
class RedisPauseFence : public ServiceFence {
 public:
  explicit RedisPauseFence(FenceOptions options) : options_(std::move(options)) {}
  Status fence() override;
  Status unfence() override;
  std::string_view method() const override { return "redis_pause"; }

 private:
  Result<RedisEndpoint> endpoint() const;
  FenceOptions options_;
};

// "postgres" -> PgStopFence, "redis" -> RedisPauseFence, any other kind -> nullptr (nothing to
// fence: not a replicated service).
std::unique_ptr<ServiceFence> makeServiceFence(const std::string& kind,
                                               const FenceOptions& options);

// The conninfo PgControl pings a local server with: `conninfo` when given, else host/port.
std::string pgPingConninfo(const std::string& conninfo, const std::string& host, int port);

}  // namespace noa::agent::replication
