#include "agent/replication/pg_promote_action.h"

#include <thread>

#include "agent/actions/target_lock.h"
#include "agent/replication/replication_common.h"
#include "common/log.h"

namespace noa::agent::replication {
namespace {

using actions::ActionResult;
using actions::fail;
constexpr const char* kAction = "pg.promote";
constexpr std::chrono::milliseconds kPollEvery{5};

// The WAL insert timeline from the current WAL file name: right at once after a promotion,
// unlike pg_control_checkpoint(), which keeps the old timeline until the next checkpoint.
constexpr const char* kPositionSql =
    "SELECT pg_is_in_recovery(), pg_current_wal_lsn()::text, "
    "('x' || left(pg_walfile_name(pg_current_wal_lsn()), 8))::bit(32)::int";

}  // namespace

Result<PgPromoteParams> PgPromoteParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(actions::ParamReader r,
                       actions::ParamReader::open(json, kAction,
                                                  {"conninfo", "host", "port", "user", "dbname",
                                                   "wait_seconds", "lock_dir"}));
  PgPromoteParams p;
  NOA_RETURN_IF_ERROR(p.server.read(r));
  NOA_RETURN_IF_ERROR(r.integer("wait_seconds", p.wait_seconds, 1, 3600));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_ASSIGN_OR_RETURN(auto kw, p.server.keywords());
  if (kw.count("host") == 0 && kw.count("port") == 0) {
    return Status::InvalidArgument(std::string(kAction) +
                                   ": which server to promote is missing (param 'conninfo' or "
                                   "'host'/'port')");
  }
  if (kw.count("user") == 0) p.server.user = kDefaultPgUser;
  if (kw.count("dbname") == 0) p.server.dbname = "postgres";
  return p;
}

ActionResult runPgPromote(const PgPromoteParams& params, const actions::ActionContext& ctx) {
  const auto started = ctx.clock->now();
  ActionResult result;
  auto finish = [&]() -> ActionResult {
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock->now() - started);
    return result;
  };
  auto lock = actions::TargetLock::acquire(params.lock_dir, kReplicationLane);
  if (!lock.ok()) {
    fail(result,
         lock.status().code() == StatusCode::kUnavailable ? actions::kErrBusy : actions::kErrIo,
         lock.status().message());
    return finish();
  }
  auto conn = actions::PgConn::connect(params.server);
  if (!conn.ok()) {
    fail(result, kErrUnreachable, "cannot promote: " + conn.status().message());
    return finish();
  }
  auto before = conn->query("SELECT pg_is_in_recovery()");
  if (!before.ok()) {
    fail(result, actions::kErrToolFailed, "pg_is_in_recovery(): " + before.status().message());
    return finish();
  }
  const bool already_primary = before->at(0).at(0) == "f";
  if (!already_primary) {
    // pg_promote(wait => true) checks for the end of recovery only every 100 ms, which would be
    // most of a failover's promotion time: signal without waiting and poll on this connection.
    auto promoted = conn->query("SELECT pg_promote(false)");
    if (!promoted.ok()) {
      fail(result, actions::kErrToolFailed, "pg_promote(): " + promoted.status().message());
      return finish();
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(params.wait_seconds);
    while (true) {
      auto recovery = conn->query("SELECT pg_is_in_recovery()");
      if (!recovery.ok()) {
        fail(result, actions::kErrToolFailed,
             "pg_is_in_recovery() after pg_promote(): " + recovery.status().message());
        return finish();
      }
      if (recovery->at(0).at(0) == "f") break;
      if (std::chrono::steady_clock::now() >= until) {
        fail(result, actions::kErrTimeout,
             "the server is still in recovery " + std::to_string(params.wait_seconds) +
                 " s after pg_promote(); it may still finish promoting");
        return finish();
      }
      if (ctx.cancel != nullptr && ctx.cancel->stopRequested()) {
        fail(result, actions::kErrCancelled, "cancelled while the server was promoting");
        return finish();
      }
      // The end of recovery has no event a client can wait on; bounded by wait_seconds.
      std::this_thread::sleep_for(kPollEvery);
    }
  }
  auto after = conn->query(kPositionSql);
  if (!after.ok()) {
    fail(result, actions::kErrToolFailed,
         "reading the position after promoting: " + after.status().message());
    return finish();
  }
  const auto& row = after->at(0);
  if (row.at(0) != "f") {
    fail(result, actions::kErrToolFailed, "pg_promote() returned but the server is in recovery");
    return finish();
  }
  result.ok = true;
  result.details = {{"promoted", true},
                    {"already_primary", already_primary},
                    {"lsn", row.at(1)},
                    {"timeline", std::stoll(row.at(2))}};
  if (!already_primary) {
    log::info("postgres promoted", {{"lsn", row.at(1)}, {"timeline", row.at(2)}});
  }
  return finish();
}

}  // namespace noa::agent::replication
