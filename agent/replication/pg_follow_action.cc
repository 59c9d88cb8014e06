#include "agent/replication/pg_follow_action.h"

#include <map>
#include <memory>
#include <thread>

#include "agent/actions/target_lock.h"
#include "agent/replication/pg_control.h"
#include "common/log.h"
#include "common/process/process.h"

namespace noa::agent::replication {
namespace {

using actions::ActionResult;
using std::chrono::milliseconds;
constexpr const char* kAction = "pg.follow";
constexpr milliseconds kPollEvery{100};

const char* codeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kDeadlineExceeded:
      return actions::kErrTimeout;
    case StatusCode::kCancelled:
      return actions::kErrCancelled;
    case StatusCode::kInvalidArgument:
      return actions::kErrInvalidParams;
    case StatusCode::kUnavailable:
      return kErrUnreachable;
    case StatusCode::kIoError:
    case StatusCode::kPermissionDenied:
      return actions::kErrIo;
    default:
      return actions::kErrToolFailed;
  }
}

// One run of pg.follow; each step returns a Status whose code becomes the error code.
class Follower {
 public:
  Follower(const PgFollowParams& p, const actions::ActionContext& ctx, PgControl pg)
      : p_(p), ctx_(ctx), pg_(std::move(pg)), deadline_(milliseconds(p.timeout_ms)) {
    if (ctx.timeout.count() > 0 && (p.timeout_ms <= 0 || ctx.timeout.count() < p.timeout_ms)) {
      deadline_ = Deadline(ctx.timeout);
    }
    local_ = p.local;
    auto kw = local_.keywords();
    if (kw.ok() && kw->count("user") == 0) local_.user = kDefaultPgUser;
    if (kw.ok() && kw->count("dbname") == 0) local_.dbname = "postgres";
  }

  Status run();
  nlohmann::json details() const {
    return {{"was", was_},
            {"rewound", rewound_},
            {"timeline", timeline_},
            {"primary", p_.primary_host + ":" + std::to_string(p_.primary_port)}};
  }

 private:
  void progress(const std::string& phase) {
    if (ctx_.on_progress) ctx_.on_progress(actions::Progress{phase, 0, 0});
  }
  Status checkCancel() const {
    if (ctx_.cancel != nullptr && ctx_.cancel->stopRequested()) {
      return Status::Cancelled("pg.follow was cancelled");
    }
    return Status::Ok();
  }
  std::string conninfo() const {
    return primaryConninfo(p_.primary_host, static_cast<int>(p_.primary_port), p_.user,
                           p_.application_name, p_.password);
  }
  // The new primary, for pg_rewind's checkpoint and for its timeline (dbname postgres).
  actions::PgEndpoint primaryEndpoint() const {
    actions::PgEndpoint e;
    e.conninfo = "host=" + conninfoValue(p_.primary_host) +
                 " port=" + std::to_string(p_.primary_port) + " user=" + conninfoValue(p_.user) +
                 " dbname=postgres connect_timeout=2";
    if (!p_.password.empty()) e.conninfo += " password=" + conninfoValue(p_.password);
    return e;
  }
  Result<int> primaryTimeline() const;
  Status checkpointPrimary() const;
  Status reconfigureRunning(bool& in_recovery);
  Status rewind();
  Status configureAndStart();
  Status waitStreaming(milliseconds wait);

  const PgFollowParams& p_;
  const actions::ActionContext& ctx_;
  PgControl pg_;
  Deadline deadline_;
  actions::PgEndpoint local_;
  std::string was_ = "stopped";
  bool rewound_ = false;
  int timeline_ = 0;
};

Status Follower::reconfigureRunning(bool& in_recovery) {
  NOA_ASSIGN_OR_RETURN(actions::PgConn conn, actions::PgConn::connect(local_));
  NOA_ASSIGN_OR_RETURN(auto rows, conn.query("SELECT pg_is_in_recovery()"));
  in_recovery = rows.at(0).at(0) == "t";
  if (!in_recovery) return Status::Ok();
  // ALTER SYSTEM takes no bind parameters; the literal is escaped instead.
  auto set = conn.query("ALTER SYSTEM SET primary_conninfo = " + sqlLiteral(conninfo()));
  if (!set.ok())
    return Status::Internal("ALTER SYSTEM SET primary_conninfo failed: " + set.status().message());
  NOA_ASSIGN_OR_RETURN(auto reloaded, conn.query("SELECT pg_reload_conf()"));
  (void)reloaded;
  return Status::Ok();
}

// The timeline WAL is written (or, on a cascading standby, received) on right now.
Result<int> Follower::primaryTimeline() const {
  NOA_ASSIGN_OR_RETURN(actions::PgConn conn, actions::PgConn::connect(primaryEndpoint()));
  NOA_ASSIGN_OR_RETURN(auto rows,
                       conn.query("SELECT CASE WHEN pg_is_in_recovery() THEN "
                                  "(SELECT received_tli FROM pg_stat_wal_receiver) ELSE "
                                  "('x' || left(pg_walfile_name(pg_current_wal_lsn()), 8))"
                                  "::bit(32)::int END"));
  if (rows.empty() || rows[0].at(0).empty()) return Status::Unavailable("primary timeline unknown");
  return std::stoi(rows[0][0]);
}

// pg_rewind reads the source's timeline from its pg_control, which a promoted server updates
// only at its first checkpoint after the promotion (spread over minutes by default). Until then
// pg_rewind sees "the same timeline" and reports "no rewind required" for a diverged target
// (documented in pg_rewind's notes): so force that checkpoint when it has not happened yet.
Status Follower::checkpointPrimary() const {
  auto conn = actions::PgConn::connect(primaryEndpoint());
  if (!conn.ok()) return conn.status().withContext("new primary");
  auto rows = conn->query(
      "SELECT (pg_control_checkpoint()).timeline_id = "
      "('x' || left(pg_walfile_name(pg_current_wal_lsn()), 8))::bit(32)::int");
  if (rows.ok() && !rows->empty() && rows->at(0).at(0) == "t") return Status::Ok();
  auto done = conn->query("CHECKPOINT");
  if (!done.ok()) {
    return Status::Internal(
        "CHECKPOINT on the new primary failed (pg_rewind needs its "
        "pg_control to show the new timeline): " +
        done.status().message());
  }
  return Status::Ok();
}

Status Follower::rewind() {
  progress("rewind");
  NOA_ASSIGN_OR_RETURN(ControlData cd, pg_.controlData());
  if (!cd.clean()) {
    log::info("crash recovery before pg_rewind",
              {{"data_dir", pg_.dataDir()}, {"state", cd.state}});
    NOA_RETURN_IF_ERROR(pg_.crashRecover(deadline_.left()).withContext("crash recovery"));
  }
  NOA_RETURN_IF_ERROR(checkCancel());
  NOA_RETURN_IF_ERROR(checkpointPrimary());
  NOA_ASSIGN_OR_RETURN(std::string opts, pg_.postmasterOpts());
  const std::string source =
      "host=" + conninfoValue(p_.primary_host) + " port=" + std::to_string(p_.primary_port) +
      " user=" + conninfoValue(p_.user) + " dbname=postgres connect_timeout=10";
  std::map<std::string, std::string> env;
  if (!p_.password.empty()) env["PGPASSWORD"] = p_.password;
  NOA_ASSIGN_OR_RETURN(ProcessResult run,
                       pg_.runTool("pg_rewind", {"-D", pg_.dataDir(), "--source-server=" + source},
                                   deadline_.left(), env, ctx_.cancel));
  // Put back before looking at the outcome: without it the server cannot be started again.
  NOA_RETURN_IF_ERROR(pg_.restorePostmasterOpts(opts));
  NOA_RETURN_IF_ERROR(toolStatus("pg_rewind", run));
  const std::string out = run.stderr_tail + run.stdout_tail;
  rewound_ = out.find("no rewind required") == std::string::npos;
  log::info(rewound_ ? "pg_rewind rewound the data dir" : "pg_rewind: no rewind required",
            {{"data_dir", pg_.dataDir()},
             {"source", p_.primary_host + ":" + std::to_string(p_.primary_port)}});
  return Status::Ok();
}

Status Follower::configureAndStart() {
  progress("start");
  NOA_RETURN_IF_ERROR(pg_.writeStandbySignal());
  NOA_RETURN_IF_ERROR(pg_.setAutoConf("primary_conninfo", confLiteral(conninfo())));
  return pg_.start(deadline_.left());
}

Status Follower::waitStreaming(milliseconds wait) {
  progress("wait_streaming");
  const Deadline until(std::min(wait, deadline_.left()));
  std::unique_ptr<actions::PgConn> conn;
  std::string last = "no walreceiver";
  int want_tli = 0;
  while (true) {
    NOA_RETURN_IF_ERROR(checkCancel());
    // The walreceiver says "streaming" from its start, before START_REPLICATION has succeeded,
    // and a diverged standby connects but never gets past the fork: only WAL received on the
    // primary's own timeline shows it really follows.
    if (want_tli == 0) {
      auto tli = primaryTimeline();
      if (tli.ok()) {
        want_tli = *tli;
      } else {
        last = "primary: " + tli.status().message();
      }
    }
    if (!conn) {
      auto c = actions::PgConn::connect(local_);
      if (c.ok()) {
        conn = std::make_unique<actions::PgConn>(std::move(c).value());
      } else {
        last = c.status().message();
      }
    }
    if (conn) {
      auto rows = conn->query(
          "SELECT status, coalesce(sender_host, ''), coalesce(sender_port, 0), "
          "coalesce(received_tli, 0) FROM pg_stat_wal_receiver");
      if (!rows.ok()) {
        last = rows.status().message();
        conn.reset();
      } else if (!rows->empty()) {
        const auto& r = rows->at(0);
        const bool from_primary = r.at(0) == "streaming" && r.at(1) == p_.primary_host &&
                                  r.at(2) == std::to_string(p_.primary_port);
        if (from_primary && want_tli > 0 && std::stoi(r.at(3)) >= want_tli) {
          timeline_ = std::stoi(r.at(3));
          return Status::Ok();
        }
        last = "walreceiver " + r.at(0) + " from " + r.at(1) + ":" + r.at(2) + ", timeline " +
               r.at(3) + (want_tli > 0 ? " (primary: " + std::to_string(want_tli) + ")" : "");
      } else {
        last = "no walreceiver";
      }
    }
    if (until.expired()) {
      return Status::DeadlineExceeded(
          "not streaming from " + p_.primary_host + ":" + std::to_string(p_.primary_port) +
          " after " + std::to_string(wait.count()) + " ms (" + last + "); see " + pg_.logPath());
    }
    // pg_stat_wal_receiver has no event to wait on; bounded by `until`.
    if (ctx_.cancel != nullptr) {
      (void)ctx_.cancel->waitFor(kPollEvery);
    } else {
      std::this_thread::sleep_for(kPollEvery);
    }
  }
}

Status Follower::run() {
  bool need_rewind = false;
  const bool may_rewind = p_.rewind == "auto";
  if (pg_.running()) {
    progress("reconfigure");
    bool in_recovery = false;
    Status s = reconfigureRunning(in_recovery);
    if (!s.ok()) return s.withContext("local server");
    if (in_recovery) {
      was_ = "replica";
      Status streaming = waitStreaming(milliseconds(p_.stream_wait_ms));
      if (streaming.ok() || !may_rewind || streaming.code() == StatusCode::kCancelled) {
        return streaming;
      }
      // Its WAL forked off the new primary's history (it received more of the old primary's
      // WAL than the new primary had): only a rewind gets it streaming.
      log::warn("standby does not stream after reconfiguration; rewinding",
                {{"data_dir", pg_.dataDir()}, {"why", streaming.message()}});
    } else {
      was_ = "primary";
    }
    progress("stop");
    NOA_RETURN_IF_ERROR(pg_.stop(deadline_.left(milliseconds(60000))));
    need_rewind = may_rewind;
  } else {
    NOA_ASSIGN_OR_RETURN(ControlData cd, pg_.controlData());
    need_rewind = may_rewind && cd.primary();
  }
  NOA_RETURN_IF_ERROR(checkCancel());
  if (need_rewind) NOA_RETURN_IF_ERROR(rewind());
  NOA_RETURN_IF_ERROR(checkCancel());
  NOA_RETURN_IF_ERROR(configureAndStart());
  // A standby that may still need a rewind gets stream_wait_ms, not the whole budget, to show it
  // does not.
  const bool fallback = !need_rewind && may_rewind;
  Status streaming = waitStreaming(fallback ? milliseconds(p_.stream_wait_ms) : deadline_.left());
  if (streaming.ok() || !fallback || streaming.code() == StatusCode::kCancelled) {
    return streaming;
  }
  log::warn("standby does not stream after start; rewinding",
            {{"data_dir", pg_.dataDir()}, {"why", streaming.message()}});
  NOA_RETURN_IF_ERROR(pg_.stop(deadline_.left(milliseconds(60000))));
  NOA_RETURN_IF_ERROR(rewind());
  NOA_RETURN_IF_ERROR(configureAndStart());
  return waitStreaming(deadline_.left());
}

}  // namespace

Result<PgFollowParams> PgFollowParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(
      actions::ParamReader r,
      actions::ParamReader::open(json, kAction,
                                 {"primary_host", "primary_port", "application_name", "user",
                                  "password", "conninfo", "host", "port", "data_dir", "bin_dir",
                                  "rewind", "timeout_ms", "stream_wait_ms", "lock_dir"}));
  PgFollowParams p;
  NOA_RETURN_IF_ERROR(r.str("primary_host", p.primary_host, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.integer("primary_port", p.primary_port, 1, 65535));
  NOA_RETURN_IF_ERROR(r.str("application_name", p.application_name));
  NOA_RETURN_IF_ERROR(r.str("user", p.user));
  NOA_RETURN_IF_ERROR(r.str("password", p.password));
  NOA_RETURN_IF_ERROR(r.str("conninfo", p.local.conninfo));
  NOA_RETURN_IF_ERROR(r.str("host", p.local.host));
  NOA_RETURN_IF_ERROR(r.integer("port", p.local.port, 1, 65535));
  NOA_RETURN_IF_ERROR(r.str("data_dir", p.data_dir, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.str("bin_dir", p.bin_dir));
  NOA_RETURN_IF_ERROR(r.str("rewind", p.rewind));
  NOA_RETURN_IF_ERROR(r.integer("timeout_ms", p.timeout_ms, 1000, INT64_MAX / 2));
  NOA_RETURN_IF_ERROR(r.integer("stream_wait_ms", p.stream_wait_ms, 100, INT64_MAX / 2));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  auto fail = [](const std::string& m) {
    return Status::InvalidArgument(std::string(kAction) + ": " + m);
  };
  if (p.primary_host.empty()) return fail("param 'primary_host' is empty");
  if (p.user.empty()) return fail("param 'user' is empty");
  if (p.rewind != "auto" && p.rewind != "never") {
    return fail("param 'rewind' = '" + p.rewind + "' must be auto or never");
  }
  NOA_ASSIGN_OR_RETURN(auto kw, p.local.keywords());
  if (kw.count("host") == 0 && kw.count("port") == 0) {
    return fail("how to reach the local server is missing (param 'conninfo' or 'host'/'port')");
  }
  if (kw.count("host") != 0 && kw["host"] == p.primary_host && kw.count("port") != 0 &&
      kw["port"] == std::to_string(p.primary_port)) {
    return fail("the primary " + p.primary_host + ":" + std::to_string(p.primary_port) +
                " is this server itself");
  }
  return p;
}

ActionResult runPgFollow(const PgFollowParams& params, const actions::ActionContext& ctx) {
  const auto started = ctx.clock->now();
  ActionResult result;
  auto finish = [&]() -> ActionResult {
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->now() - started);
    return result;
  };
  auto lock = actions::TargetLock::acquire(params.lock_dir, kReplicationLane);
  if (!lock.ok()) {
    actions::fail(
        result,
        lock.status().code() == StatusCode::kUnavailable ? actions::kErrBusy : actions::kErrIo,
        lock.status().message());
    return finish();
  }
  PgControlOptions options;
  options.data_dir = params.data_dir;
  options.bin_dir = params.bin_dir;
  auto tool = actions::toolConn(params.local);
  if (tool.ok()) options.ping_conninfo = tool->conninfo;
  auto pg = PgControl::open(options);
  if (!pg.ok()) {
    actions::fail(result, actions::kErrInvalidParams, pg.status().message());
    return finish();
  }
  Follower follower(params, ctx, std::move(pg).value());
  Status s = follower.run();
  result.details = follower.details();
  if (!s.ok()) {
    actions::fail(result, codeFor(s),
                  "pg.follow " + params.primary_host + ":" + std::to_string(params.primary_port) +
                      ": " + s.message());
    return finish();
  }
  result.ok = true;
  log::info("postgres follows a new primary",
            {{"primary", params.primary_host + ":" + std::to_string(params.primary_port)},
             {"was", result.details["was"]},
             {"rewound", result.details["rewound"]}});
  return finish();
}

}  // namespace noa::agent::replication
