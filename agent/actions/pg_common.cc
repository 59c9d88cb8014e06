#include "agent/actions/pg_common.h"

#include <ctime>

namespace noa::agent::actions {
namespace {

// libpq's conninfo value quoting: single quotes, backslash-escaped.
std::string quoteConnValue(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace

Status PgEndpoint::read(const ParamReader& reader) {
  NOA_RETURN_IF_ERROR(reader.str("conninfo", conninfo));
  NOA_RETURN_IF_ERROR(reader.str("host", host));
  NOA_RETURN_IF_ERROR(reader.integer("port", port, 1, 65535));
  NOA_RETURN_IF_ERROR(reader.str("user", user));
  NOA_RETURN_IF_ERROR(reader.str("dbname", dbname));
  // Validates the conninfo syntax now, so a typo fails as invalid params, not as a tool error.
  auto kw = keywords();
  if (!kw.ok()) return kw.status();
  return Status::Ok();
}

Result<std::map<std::string, std::string>> PgEndpoint::keywords(
    const std::string& dbname_override) const {
  std::map<std::string, std::string> out;
  if (!conninfo.empty()) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
    if (opts == nullptr) {
      std::string msg = err != nullptr ? err : "out of memory";
      PQfreemem(err);
      while (!msg.empty() && msg.back() == '\n') msg.pop_back();
      return Status::InvalidArgument("param 'conninfo' is not a valid libpq conninfo: " + msg);
    }
    for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
      if (o->val != nullptr && o->val[0] != '\0') out[o->keyword] = o->val;
    }
    PQconninfoFree(opts);
  }
  if (!host.empty()) out["host"] = host;
  if (port != 0) out["port"] = std::to_string(port);
  if (!user.empty()) out["user"] = user;
  if (!dbname.empty()) out["dbname"] = dbname;
  if (!dbname_override.empty()) out["dbname"] = dbname_override;
  return out;
}

Result<PgToolConn> toolConn(const PgEndpoint& endpoint, const std::string& dbname_override) {
  NOA_ASSIGN_OR_RETURN(auto kw, endpoint.keywords(dbname_override));
  PgToolConn out;
  for (const auto& [k, v] : kw) {
    if (k == "password") {
      out.password = v;
      continue;
    }
    if (k == "dbname") out.dbname = v;
    if (!out.conninfo.empty()) out.conninfo += ' ';
    out.conninfo += k + "=" + quoteConnValue(v);
  }
  return out;
}

Result<PgConn> PgConn::connect(const PgEndpoint& endpoint, const std::string& dbname_override) {
  NOA_ASSIGN_OR_RETURN(auto kw, endpoint.keywords(dbname_override));
  if (kw.count("connect_timeout") == 0) kw["connect_timeout"] = "10";
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kw) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr) return Status::Internal("libpq: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Status::Unavailable("connect to PostgreSQL: " + msg);
  }
  return PgConn(conn);
}

PgConn::~PgConn() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Result<std::vector<std::vector<std::string>>> PgConn::query(const std::string& sql,
                                                            const std::vector<std::string>& args) {
  std::vector<const char*> values;
  for (const auto& a : args) values.push_back(a.c_str());
  PGresult* res = PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
  ExecStatusType st = PQresultStatus(res);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string msg = PQresultErrorMessage(res);
    PQclear(res);
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
    return Status::FailedPrecondition(msg);
  }
  std::vector<std::vector<std::string>> rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    std::vector<std::string> row;
    for (int c = 0; c < PQnfields(res); ++c) row.emplace_back(PQgetvalue(res, r, c));
    rows.push_back(std::move(row));
  }
  PQclear(res);
  return rows;
}

std::string PgConn::quoteIdent(const std::string& name) {
  char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
  std::string out = q != nullptr ? q : "\"\"";
  PQfreemem(q);
  return out;
}

std::string pgLockTarget(const std::string& dbname) {
  std::string out = "pg.";
  for (char c : dbname) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string compactUtc(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::chrono::milliseconds effectiveTimeout(const ActionContext& ctx, int64_t params_timeout_ms) {
  std::chrono::milliseconds p(params_timeout_ms);
  if (ctx.timeout.count() <= 0) return p;
  if (p.count() <= 0) return ctx.timeout;
  return std::min(p, ctx.timeout);
}

std::string tailLines(const std::string& text, size_t max_lines) {
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ')) --end;
  size_t pos = end;
  size_t lines = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++lines == max_lines) break;
    --pos;
  }
  return text.substr(pos, end - pos);
}

ActionResult& fail(ActionResult& result, const char* code, std::string message) {
  result.ok = false;
  result.error_code = code;
  result.error = std::move(message);
  return result;
}

bool toolFailed(const std::string& tool, const ProcessResult& run, ActionResult& result) {
  if (run.exit_code == 0 && !run.timed_out && !run.cancelled) return false;
  result.stderr_tail = tailLines(run.stderr_tail);
  if (run.cancelled) {
    fail(result, kErrCancelled, tool + " was cancelled");
  } else if (run.timed_out) {
    fail(result, kErrTimeout,
         tool + " did not finish within the timeout (" + std::to_string(run.duration.count()) +
             " ms); its process group was killed");
  } else if (run.term_signal != 0) {
    fail(result, kErrToolFailed, tool + " was killed by signal " + std::to_string(run.term_signal));
  } else {
    std::string last = tailLines(run.stderr_tail, 1);
    fail(result, kErrToolFailed,
         tool + " exited with status " + std::to_string(run.exit_code) +
             (last.empty() ? "" : ": " + last));
  }
  return true;
}

Result<std::string> toolVersion(const std::string& tool) {
  ProcessSpec spec;
  spec.argv = {tool, "--version"};
  spec.timeout = std::chrono::seconds(10);
  NOA_ASSIGN_OR_RETURN(ProcessResult run, runProcess(spec));
  if (run.exit_code != 0) {
    return Status::FailedPrecondition(tool + " --version failed: " + tailLines(run.stderr_tail));
  }
  return tailLines(run.stdout_tail, 1);
}

}  // namespace noa::agent::actions
