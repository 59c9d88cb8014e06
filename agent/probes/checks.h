#pragma once

// One attempt of each probe handler, bounded by a timeout. Every check is thread-safe, catches
// its library's exceptions and turns every problem (refused, timed out, bad answer) into a
// failed CheckOutcome. Details never contain a password.

#include <chrono>
#include <map>
#include <optional>
#include <string>

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
// precision), runs SELECT 1, then reads the facts: role (pg_is_in_recovery), server_version and
// the WAL positions (lsn; plus receive_lsn and replay_lsn on a replica).
CheckOutcome checkPostgres(const PostgresCheck& pg, std::chrono::milliseconds timeout);

// Connects (hiredis), AUTH when a password is set, PING must answer PONG (LOADING, NOAUTH and
// other errors are failures), then INFO replication: role (master -> primary, slave -> replica),
// master_repl_offset, connected_slaves, and on a replica master_link_status and
// slave_repl_offset.
CheckOutcome checkRedis(const RedisCheck& redis, std::chrono::milliseconds timeout);

// Dispatches on the handler type.
CheckOutcome runCheck(const ProbeHandler& handler, std::chrono::milliseconds timeout,
                      const StopToken* cancel = nullptr);

}  // namespace noa::agent
