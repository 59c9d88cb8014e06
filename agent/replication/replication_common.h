#pragma once

// What the replication actions (pg.promote, pg.follow, redis.promote, redis.follow) share: their
// lane and lock, a deadline, the error code for "the service cannot be reached", and the small
// pure helpers that build what PostgreSQL reads (conninfo strings, SQL and config literals).

#include <chrono>
#include <string>

#include "agent/actions/action.h"
#include "common/status.h"

namespace noa::agent::replication {

// Two replication actions on one server must never overlap (a promote racing a follow would
// leave the server in whichever state came last): they share one command lane and one target
// lock (actions/target_lock.h) with this name, on PostgreSQL and Redis agents alike.
inline constexpr const char* kReplicationLane = "replication";

// The service the action works on does not answer (not running, wrong port): the controller
// treats the member as gone rather than as a failed tool.
inline constexpr const char* kErrUnreachable = "unreachable";

// Default PostgreSQL user for the agent's own connections and for replication connections.
inline constexpr const char* kDefaultPgUser = "postgres";
inline constexpr const char* kDefaultPgBinDir = "/usr/lib/postgresql/15/bin";

// A wall of time an action may spend; 0 ms = no limit.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget)
      : unlimited_(budget.count() <= 0), end_(std::chrono::steady_clock::now() + budget) {}
  bool expired() const { return !unlimited_ && std::chrono::steady_clock::now() >= end_; }
  // What is left, at least 1 ms, capped at `cap` (and `cap` when unlimited).
  std::chrono::milliseconds left(std::chrono::milliseconds cap = std::chrono::hours(24)) const;

 private:
  bool unlimited_;
  std::chrono::steady_clock::time_point end_;
};

// libpq conninfo value: single-quoted, ' and \ backslash-escaped.
std::string conninfoValue(const std::string& value);

// A standby's primary_conninfo for streaming from host:port. The password, when given, is part
// of it (that is where PostgreSQL keeps it); callers must never log the result.
std::string primaryConninfo(const std::string& host, int port, const std::string& user,
                            const std::string& application_name, const std::string& password);

// SQL string literal, E'' form so it reads the same whatever standard_conforming_strings says.
std::string sqlLiteral(const std::string& value);

// A value as postgresql.conf / postgresql.auto.conf quote it ('' for ', \\ for \).
std::string confLiteral(const std::string& value);

// `text` of postgresql.auto.conf with every `key = ...` line replaced by one `key = value` line
// at the end (value already quoted with confLiteral). The last setting of a key wins in PostgreSQL,
// but a file with one line per key is what ALTER SYSTEM writes too and what an operator expects.
std::string setAutoConfValue(const std::string& text, const std::string& key,
                             const std::string& quoted_value);

// Reads a password file (trailing newlines dropped); InvalidArgument when unreadable or empty.
Result<std::string> readSecretFile(const std::string& path);

}  // namespace noa::agent::replication
