#include "agent/actions/pg_restore_action.h"

#include <sys/stat.h>

#include <thread>

#include "agent/actions/artifact_file.h"
#include "agent/actions/target_lock.h"

namespace noa::agent::actions {
namespace {

constexpr const char* kAction = "restore.pg_restore";
// How long terminated sessions get to go away before the swap gives up.
constexpr std::chrono::seconds kSessionDrain{10};

bool isHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Row count of every user table (partitions counted as the leaves they are).
Result<nlohmann::json> countRows(PgConn& conn) {
  NOA_ASSIGN_OR_RETURN(auto tables,
                       conn.query("select n.nspname, c.relname from pg_class c "
                                  "join pg_namespace n on n.oid = c.relnamespace "
                                  "where c.relkind = 'r' and n.nspname <> 'information_schema' "
                                  "and n.nspname not like 'pg\\_%' order by 1, 2"));
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& t : tables) {
    NOA_ASSIGN_OR_RETURN(auto rows, conn.query("select count(*) from " + conn.quoteIdent(t[0]) +
                                               "." + conn.quoteIdent(t[1])));
    counts[t[0] + "." + t[1]] = std::stoll(rows.at(0).at(0));
  }
  return counts;
}

Result<bool> databaseExists(PgConn& conn, const std::string& name) {
  NOA_ASSIGN_OR_RETURN(auto rows,
                       conn.query("select 1 from pg_database where datname = $1", {name}));
  return !rows.empty();
}

// Stops new sessions on `db` and terminates the existing ones; fails when some remain.
Status evictSessions(PgConn& conn, const std::string& db) {
  NOA_RETURN_IF_ERROR(
      conn.query("alter database " + conn.quoteIdent(db) + " allow_connections false").status());
  const auto until = std::chrono::steady_clock::now() + kSessionDrain;
  while (true) {
    auto left = conn.query(
        "select count(*), count(*) filter (where not pg_terminate_backend(pid)) "
        "from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
        {db});
    if (!left.ok()) {
      return Status::FailedPrecondition("cannot terminate the sessions on '" + db +
                                        "': " + left.status().message());
    }
    if (left->at(0).at(0) == "0") return Status::Ok();
    if (std::chrono::steady_clock::now() >= until) {
      return Status::FailedPrecondition(
          left->at(0).at(0) + " session(s) on '" + db + "' could not be terminated (" +
          left->at(0).at(1) +
          " refused: the restoring user needs superuser or pg_signal_backend); nothing was "
          "swapped");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

Result<PgRestoreParams> PgRestoreParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(
      ParamReader r,
      ParamReader::open(json, kAction,
                        {"artifact", "sha256", "target_db", "conninfo", "host", "port", "user",
                         "dbname", "jobs", "swap", "scratch", "timeout_ms", "lock_dir",
                         "pg_restore"}));
  PgRestoreParams p;
  NOA_RETURN_IF_ERROR(r.str("artifact", p.artifact, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.str("sha256", p.sha256));
  NOA_RETURN_IF_ERROR(r.str("target_db", p.target_db, /*required=*/true));
  NOA_RETURN_IF_ERROR(p.server.read(r));
  NOA_RETURN_IF_ERROR(r.integer("jobs", p.jobs, 0, 256));
  NOA_RETURN_IF_ERROR(r.boolean("swap", p.swap));
  NOA_RETURN_IF_ERROR(r.boolean("scratch", p.scratch));
  if (p.scratch && p.swap) {
    return Status::InvalidArgument(std::string(kAction) +
                                   ": 'scratch' and 'swap' exclude each other (a scratch restore "
                                   "never takes the target's name)");
  }
  NOA_RETURN_IF_ERROR(r.integer("timeout_ms", p.timeout_ms, 0, INT64_MAX / 2));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_RETURN_IF_ERROR(r.str("pg_restore", p.pg_restore));
  if (!p.sha256.empty() && !isHex64(p.sha256)) {
    return Status::InvalidArgument(std::string(kAction) +
                                   ": param 'sha256' must be 64 lowercase hex digits");
  }
  if (p.target_db.size() > kMaxTargetDbLength || p.target_db.find('\0') != std::string::npos) {
    return Status::InvalidArgument(std::string(kAction) + ": param 'target_db' must be at most " +
                                   std::to_string(kMaxTargetDbLength) +
                                   " bytes (room for the __restoring_<ts> suffix)");
  }
  return p;
}

ActionResult runPgRestore(const PgRestoreParams& params, const ActionContext& ctx) {
  const Clock& clock = *ctx.clock;
  const MonoTime started = clock.now();
  ActionResult result;
  auto finish = [&]() -> ActionResult {
    result.duration = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started);
    return result;
  };
  const auto timeout = effectiveTimeout(ctx, params.timeout_ms);
  auto report = [&](const std::string& phase, uint64_t done, uint64_t total) {
    if (ctx.on_progress) ctx.on_progress(Progress{phase, done, total});
  };

  struct stat st;
  if (::stat(params.artifact.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    fail(result, kErrInvalidParams, "artifact '" + params.artifact + "' is not a readable file");
    return finish();
  }
  const auto artifact_size = static_cast<uint64_t>(st.st_size);
  auto lock = TargetLock::acquire(params.lock_dir, pgLockTarget(params.target_db));
  if (!lock.ok()) {
    fail(result, lock.status().code() == StatusCode::kUnavailable ? kErrBusy : kErrIo,
         lock.status().message());
    return finish();
  }

  if (!params.sha256.empty()) {
    report("verify", 0, artifact_size);
    auto actual = sha256OfFile(params.artifact);
    if (!actual.ok()) {
      fail(result, kErrIo, actual.status().message());
      return finish();
    }
    if (*actual != params.sha256) {
      fail(result, kErrChecksumMismatch,
           "artifact '" + params.artifact + "' has sha256 " + *actual + ", expected " +
               params.sha256 + ": it is corrupt or not the catalogued backup; nothing restored");
      result.sha256 = *actual;
      return finish();
    }
    result.sha256 = *actual;
  }

  // The maintenance connection must not be to a database we are about to rename.
  auto kw = params.server.keywords();
  std::string maint_db = kw.ok() && kw->count("dbname") ? (*kw)["dbname"] : "postgres";
  if (maint_db == params.target_db) maint_db = "template1";
  auto maint_or = PgConn::connect(params.server, maint_db);
  if (!maint_or.ok()) {
    fail(result, kErrToolFailed, maint_or.status().message());
    return finish();
  }
  PgConn& maint = *maint_or;
  auto exists = databaseExists(maint, params.target_db);
  if (!exists.ok()) {
    fail(result, kErrToolFailed, exists.status().message());
    return finish();
  }
  if (*exists && !params.swap && !params.scratch) {
    fail(result, kErrRefused,
         "database '" + params.target_db +
             "' already exists; restore under a new name, or pass swap=true to replace it "
             "(the old one is kept as <name>__old_<ts>)");
    return finish();
  }

  const std::string ts = compactUtc(clock.wallNow());
  const std::string restoring = params.target_db + "__restoring_" + ts;
  const std::string old_name = params.target_db + "__old_" + ts;
  auto created =
      maint.query("create database " + maint.quoteIdent(restoring) + " template template0");
  if (!created.ok()) {
    fail(result, kErrToolFailed,
         "create database '" + restoring + "': " + created.status().message());
    return finish();
  }
  auto drop_restoring = [&]() {
    auto ignored =
        maint.query("drop database if exists " + maint.quoteIdent(restoring) + " with (force)");
    (void)ignored;
  };

  const int64_t jobs =
      params.jobs > 0
          ? params.jobs
          : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  auto conn = toolConn(params.server, restoring);
  if (!conn.ok()) {
    drop_restoring();
    fail(result, kErrInvalidParams, conn.status().message());
    return finish();
  }
  ProcessSpec spec;
  spec.argv = {params.pg_restore,
               "--exit-on-error",
               "--no-password",
               "--jobs=" + std::to_string(jobs),
               "--dbname=" + conn->conninfo,
               params.artifact};
  if (!conn->password.empty()) spec.env["PGPASSWORD"] = conn->password;
  if (timeout.count() > 0) {
    spec.timeout = std::max(
        std::chrono::milliseconds(1),
        timeout - std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - started));
  }
  report("restore", 0, artifact_size);
  auto run = runProcess(spec, ctx.cancel);
  if (!run.ok()) {
    drop_restoring();
    fail(result, run.status().code() == StatusCode::kNotFound ? kErrToolMissing : kErrToolFailed,
         run.status().message());
    return finish();
  }
  if (toolFailed("pg_restore", *run, result)) {
    drop_restoring();
    result.error += "; database '" + restoring + "' was dropped, nothing else was changed";
    return finish();
  }
  result.stderr_tail = tailLines(run->stderr_tail);

  report("count", artifact_size, artifact_size);
  nlohmann::json tables;
  {
    auto restored = PgConn::connect(params.server, restoring);
    Result<nlohmann::json> counts =
        restored.ok() ? countRows(*restored) : Result<nlohmann::json>(restored.status());
    if (!counts.ok()) {
      drop_restoring();
      fail(result, kErrVerifyFailed,
           "counting rows in '" + restoring + "' failed: " + counts.status().message());
      return finish();
    }
    tables = std::move(*counts);
  }  // closed: a database with a session cannot be renamed

  if (params.scratch) {
    // A drill: the restore and its row counts are the proof; the copy is dropped again so
    // drills leave nothing behind on the server.
    report("drop", artifact_size, artifact_size);
    drop_restoring();
    result.ok = true;
    result.bytes = artifact_size;
    result.artifact_path = params.artifact;
    result.details["database"] = params.target_db;
    result.details["restored_as"] = restoring;
    result.details["scratch"] = true;
    result.details["jobs"] = jobs;
    result.details["tables"] = tables;
    return finish();
  }

  report("swap", artifact_size, artifact_size);
  // The target may have appeared while we restored (it is locked only against our own actions).
  exists = databaseExists(maint, params.target_db);
  if (exists.ok() && *exists && !params.swap) {
    drop_restoring();
    fail(result, kErrRefused, "database '" + params.target_db + "' appeared during the restore");
    return finish();
  }
  if (exists.ok() && *exists) {
    Status evicted = evictSessions(maint, params.target_db);
    if (evicted.ok()) {
      evicted = maint
                    .query("alter database " + maint.quoteIdent(params.target_db) + " rename to " +
                           maint.quoteIdent(old_name))
                    .status();
    }
    if (!evicted.ok()) {
      auto ignored = maint.query("alter database " + maint.quoteIdent(params.target_db) +
                                 " allow_connections true");
      (void)ignored;
      drop_restoring();
      fail(result, kErrRefused,
           "cannot swap '" + params.target_db + "': " + evicted.message() +
               "; the restored copy was dropped and the target left as it was");
      return finish();
    }
    result.details["old_database"] = old_name;
  }
  auto renamed = maint.query("alter database " + maint.quoteIdent(restoring) + " rename to " +
                             maint.quoteIdent(params.target_db));
  if (!renamed.ok()) {
    if (result.details.contains("old_database")) {
      auto back = maint.query("alter database " + maint.quoteIdent(old_name) + " rename to " +
                              maint.quoteIdent(params.target_db));
      auto allow = maint.query("alter database " + maint.quoteIdent(params.target_db) +
                               " allow_connections true");
      (void)back;
      (void)allow;
      result.details.erase("old_database");
    }
    drop_restoring();
    fail(result, kErrToolFailed,
         "rename '" + restoring + "' to '" + params.target_db + "': " + renamed.status().message());
    return finish();
  }
  report("done", artifact_size, artifact_size);
  result.ok = true;
  result.bytes = artifact_size;
  result.artifact_path = params.artifact;
  result.details["database"] = params.target_db;
  result.details["restored_as"] = restoring;
  result.details["jobs"] = jobs;
  result.details["tables"] = tables;
  return finish();
}

}  // namespace noa::agent::actions
