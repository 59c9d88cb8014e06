#pragma once

// One attempt of each probe handler, bounded by a timeout. Every check is thread-safe, catches
// its library's exceptions and turns every problem (refused, timed out, bad answer) into a
// failed CheckOutcome. Details never contain a password.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "agent/probes/probe_spec.h"
#include "common/stop_token.h"

namespace noa::agent {

// What a service says about itself (replication role and small facts for Report.attributes).
struct ServiceFacts {
  std::string role;  // "" | "primary" | "replica"
  std::map<std::string, std::string> attributes;
  bool operator==(const ServiceFacts&) const = default;
};

struct CheckOutcome {
  bool success = false;
  std::string detail;  // the error, or a short result ("HTTP 200", "PONG, primary")
  // Set by checks that learn facts (postgres, redis), empty after a failure so stale facts do
  // not outlive the service; nullopt for checks that never know any (http, tcp, exec).
  std::optional<ServiceFacts> facts;
  // How long the attempt took; measured and set by the Prober, not by the check.
  std::chrono::microseconds latency{0};
};

// GET, no redirects followed (a 3xx is already a success), no keep-alive. The connect and each
// read are bounded by `timeout`.
CheckOutcome checkHttp(const HttpGet& http, std::chrono::milliseconds timeout);

// A TCP connect (non-blocking, to every resolved address in turn) within `timeout`. Name
// resolution is not bounded by it: agents probe local services by address.
CheckOutcome checkTcp(const TcpSocket& tcp, std::chrono::milliseconds timeout);

// Runs argv without a shell; exit 0 within `timeout` is success. The process group is killed on
// timeout or when `cancel` is requested.
CheckOutcome checkExec(const Exec& exec, std::chrono::milliseconds timeout,
                       const StopToken* cancel = nullptr);

// Connects (libpq, non-blocking, so the whole attempt is bounded by `timeout` at millisecond
// precision), then sends SELECT 1 and the facts query in one round trip; SELECT 1 alone decides
// success. Facts: role (pg_is_in_recovery), server_version, timeline, connected_replicas, and
// lsn (primary: pg_current_wal_lsn; replica: replay_lsn) plus, on a replica, receive_lsn,
// replay_lsn, replication_lag_bytes and replication_lag_seconds; on a primary replica_names and
// sync_standbys (comma-separated application_names). How each is computed, and what
// an unprivileged role sees, is written down with the query in postgres_check.cc.
CheckOutcome checkPostgres(const PostgresCheck& pg, std::chrono::milliseconds timeout);

// Connects (hiredis), then pipelines AUTH (when a password is set), PING, INFO replication and
// INFO memory in one round trip. PING must answer PONG (LOADING, NOAUTH and other errors are
// failures). Facts: see redisFactsFromInfo.
CheckOutcome checkRedis(const RedisCheck& redis, std::chrono::milliseconds timeout);

// The facts in redis INFO text (sections concatenated): role (master -> primary, slave ->
// replica), master_repl_offset, connected_slaves, used_memory, and on a replica master_host,
// master_port, master_link_status and slave_repl_offset. Values are copied as redis prints them.
ServiceFacts redisFactsFromInfo(std::string_view info);

// Dispatches on the handler type.
CheckOutcome runCheck(const ProbeHandler& handler, std::chrono::milliseconds timeout,
                      const StopToken* cancel = nullptr);

}  // namespace noa::agent
