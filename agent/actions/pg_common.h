#pragma once

// What the PostgreSQL actions (backup.pg_dump, restore.pg_restore) share: how a server is named
// in params, a small libpq wrapper for their few queries, and how a tool run becomes an
// ActionResult.

#include <libpq-fe.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/actions/action.h"
#include "agent/actions/action_params.h"
#include "common/process/process.h"
#include "common/status.h"

namespace noa::agent::actions {

// Default directory for per-target lock files (see target_lock.h).
inline constexpr const char* kDefaultLockDir = "/run/noa/locks";

// A server + database, given either as a libpq conninfo or as separate fields (which override
// the conninfo's). The password never goes on a command line: tools get it as PGPASSWORD.
struct PgEndpoint {
  std::string conninfo;
  std::string host;
  int64_t port = 0;
  std::string user;
  std::string dbname;

  // Reads "conninfo", "host", "port", "user", "dbname".
  Status read(const ParamReader& reader);

  // Resolved keywords (conninfo parsed, fields applied, `dbname_override` if non-empty).
  Result<std::map<std::string, std::string>> keywords(
      const std::string& dbname_override = "") const;
};

// Connection string without the password (safe for argv and logs) + the password, if any.
struct PgToolConn {
  std::string conninfo;
  std::string password;
  std::string dbname;
};
Result<PgToolConn> toolConn(const PgEndpoint& endpoint, const std::string& dbname_override = "");

class PgConn {
 public:
  static Result<PgConn> connect(const PgEndpoint& endpoint,
                                const std::string& dbname_override = "");
  PgConn(PgConn&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  PgConn& operator=(PgConn&&) = delete;
  PgConn(const PgConn&) = delete;
  ~PgConn();

  // Rows of text values (NULL as ""). Commands without rows return an empty vector.
  Result<std::vector<std::vector<std::string>>> query(const std::string& sql,
                                                      const std::vector<std::string>& args = {});
  std::string quoteIdent(const std::string& name);

 private:
  explicit PgConn(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// Lock-target name for a database ("pg.<db>", unsafe characters replaced).
std::string pgLockTarget(const std::string& dbname);

// "20261125T101500Z"
std::string compactUtc(WallTime t);

// Effective deadline: the smaller non-zero of the context's and the params' timeouts.
std::chrono::milliseconds effectiveTimeout(const ActionContext& ctx, int64_t params_timeout_ms);

// Fills error fields for a tool that did not succeed. Returns false when the run was a success.
bool toolFailed(const std::string& tool, const ProcessResult& run, ActionResult& result);

// Runs `<tool> --version` ("pg_dump (PostgreSQL) 15.18"); kErrToolMissing when absent.
Result<std::string> toolVersion(const std::string& tool);

// Last `max_lines` lines of a tool's stderr.
std::string tailLines(const std::string& text, size_t max_lines = 20);

// Fills `result` as a failure and returns it.
ActionResult& fail(ActionResult& result, const char* code, std::string message);

}  // namespace noa::agent::actions
