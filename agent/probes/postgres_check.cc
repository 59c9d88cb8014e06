#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <vector>

#include "agent/probes/checks.h"

namespace noa::agent {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;
using Row = std::vector<std::optional<std::string>>;

struct PgConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, PgConnCloser>;

// Liveness and facts in one round trip: a simple-query multi-statement sends both at once, and
// the SELECT 1 answers even when the facts statement fails (its result arrives first).
//
// - pg_current_wal_lsn() and pg_walfile_name() raise an error during recovery, so they only run
//   on a primary (CASE does not fold volatile functions; the CTEs are MATERIALIZED so that
//   recovery state and positions are each read once and agree with each other).
// - timeline: on a primary the WAL insert timeline, from the current WAL file name. It needs no
//   privilege and is right at once after a promotion, while pg_control_checkpoint() keeps the
//   old timeline until the next checkpoint. On a replica the walreceiver's received_tli (NULL
//   without pg_read_all_stats, or while not streaming), else the last restartpoint's timeline.
// - replication_lag_bytes: replay is compared with the primary's position as last reported to
//   the walreceiver (latest_end_lsn) when visible, else with what was received; so it covers
//   WAL not yet received, as far as the replica knows. NULL when nothing was ever received.
// - replication_lag_seconds: age of the last replayed transaction, 0 when there is no byte lag
//   (an idle primary writes no transactions, so the age alone would grow forever).
// - connected_replicas: walsenders that are not base backups (on a replica: its cascaded
//   replicas).
// - replica_names / sync_standbys (primary only): application_names of those walsenders, sorted
//   and comma-separated, and of the ones whose sync_state is sync or quorum (what a failover in
//   synchronous mode may promote). "" when none.
constexpr const char* kProbeSql = R"sql(SELECT 1;
WITH r AS MATERIALIZED (
  SELECT pg_is_in_recovery() AS standby, pg_last_wal_receive_lsn() AS receive_lsn,
         pg_last_wal_replay_lsn() AS replay_lsn, pg_last_xact_replay_timestamp() AS replay_ts),
w AS MATERIALIZED (SELECT received_tli, latest_end_lsn FROM pg_stat_wal_receiver),
f AS MATERIALIZED (
  SELECT r.*, CASE WHEN r.standby THEN NULL ELSE pg_current_wal_lsn() END AS lsn,
         CASE WHEN r.standby THEN pg_wal_lsn_diff(
           greatest((SELECT latest_end_lsn FROM w), r.receive_lsn), r.replay_lsn) END AS lag
  FROM r)
SELECT standby, current_setting('server_version'), lsn::text, receive_lsn::text,
  replay_lsn::text,
  CASE WHEN NOT standby THEN ('x' || left(pg_walfile_name(lsn), 8))::bit(32)::int
       ELSE coalesce((SELECT received_tli FROM w),
                     CASE WHEN has_function_privilege('pg_control_checkpoint()', 'EXECUTE')
                          THEN (pg_control_checkpoint()).timeline_id END) END,
  (SELECT count(*) FROM pg_stat_replication WHERE state IS DISTINCT FROM 'backup'),
  CASE WHEN lag < 0 THEN 0 ELSE lag END::bigint,
  CASE WHEN lag <= 0 THEN 0
       WHEN replay_ts IS NOT NULL
         THEN round(greatest(0, extract(epoch FROM now() - replay_ts)), 3) END,
  (SELECT coalesce(string_agg(application_name, ',' ORDER BY application_name), '')
     FROM pg_stat_replication WHERE state IS DISTINCT FROM 'backup'),
  (SELECT coalesce(string_agg(application_name, ',' ORDER BY application_name), '')
     FROM pg_stat_replication
     WHERE state IS DISTINCT FROM 'backup' AND sync_state IN ('sync', 'quorum'))
FROM f)sql";

// The facts statement's columns.
enum Column : size_t {
  kStandby,
  kServerVersion,
  kLsn,
  kReceiveLsn,
  kReplayLsn,
  kTimeline,
  kConnectedReplicas,
  kLagBytes,
  kLagSeconds,
  kReplicaNames,
  kSyncStandbys,
  kColumnCount,
};

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// a detail is one line.
std::string oneLine(const char* text) {
  std::string out;
  bool space = false;
  for (const char* p = text; p != nullptr && *p != '\0'; ++p) {
    const bool ws = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(*p);
  }
  return out;
}

std::string pgError(PGconn* conn) { return oneLine(PQerrorMessage(conn)); }

// Waits until the connection's socket is readable (or writable); false on timeout or error.
bool waitSocket(PGconn* conn, bool for_write, SteadyTime deadline) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{PQsocket(conn), static_cast<short>(for_write ? POLLOUT : POLLIN), 0};
    if (pfd.fd < 0) return false;
    const int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    return n > 0;
  }
}

// Sends `sql` (one or more statements) and returns, per statement that ran, its first row (NULLs
// as nullopt) or its error. Fails as a whole only when the server cannot be heard in time.
Result<std::vector<Result<Row>>> queryRows(PGconn* conn, const char* sql, SteadyTime deadline) {
  if (PQsendQuery(conn, sql) == 0) return Status::Unavailable(pgError(conn));
  std::vector<Result<Row>> rows;
  while (true) {
    while (PQisBusy(conn) != 0) {
      if (!waitSocket(conn, false, deadline)) return Status::DeadlineExceeded("query timed out");
      if (PQconsumeInput(conn) == 0) return Status::Unavailable(pgError(conn));
    }
    PGresult* res = PQgetResult(conn);
    if (res == nullptr) break;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      rows.emplace_back(Status::Unavailable(oneLine(PQresultErrorMessage(res))));
    } else if (PQntuples(res) < 1) {
      rows.emplace_back(Status::Internal("no row returned"));
    } else {
      Row row;
      for (int c = 0; c < PQnfields(res); ++c) {
        if (PQgetisnull(res, 0, c) != 0) {
          row.emplace_back(std::nullopt);
        } else {
          row.emplace_back(PQgetvalue(res, 0, c));
        }
      }
      rows.emplace_back(std::move(row));
    }
    PQclear(res);
  }
  if (rows.empty()) return Status::Internal("no result");
  return rows;
}

ServiceFacts factsFromRow(const Row& row) {
  ServiceFacts f;
  const bool replica = row[kStandby].value_or("f") == "t";
  f.role = replica ? "replica" : "primary";
  auto set = [&](const char* key, Column column) {
    if (row[column]) f.attributes[key] = *row[column];
  };
  set("server_version", kServerVersion);
  set("timeline", kTimeline);
  set("connected_replicas", kConnectedReplicas);
  if (replica) {
    set("receive_lsn", kReceiveLsn);
    set("replay_lsn", kReplayLsn);
    // What a failover compares: how far this replica has applied.
    set("lsn", kReplayLsn);
    set("replication_lag_bytes", kLagBytes);
    set("replication_lag_seconds", kLagSeconds);
  } else {
    set("lsn", kLsn);
    set("replica_names", kReplicaNames);
    set("sync_standbys", kSyncStandbys);
  }
  return f;
}

void ignoreNotice(void*, const char*) {}

}  // namespace

CheckOutcome checkPostgres(const PostgresCheck& pg, milliseconds timeout) {
  CheckOutcome out;
  out.facts = ServiceFacts{};
  const SteadyTime deadline = std::chrono::steady_clock::now() + timeout;

  // libpq's parse errors quote the text around the mistake, which may be the password.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(pg.conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    PQfreemem(parse_error);
    out.detail = "invalid conninfo";
    return out;
  }
  PQconninfoFree(parsed);

  PgConn conn(PQconnectStart(pg.conninfo.c_str()));
  if (!conn) {
    out.detail = "cannot allocate a connection";
    return out;
  }
  PQsetNoticeProcessor(conn.get(), ignoreNotice, nullptr);
  if (PQstatus(conn.get()) == CONNECTION_BAD) {
    out.detail = "connect: " + pgError(conn.get());
    return out;
  }
  // libpq's connect_timeout has whole-second resolution (and a 2 s floor); polling the
  // non-blocking handshake keeps the attempt inside a sub-second timeout.
  PostgresPollingStatusType polled = PGRES_POLLING_WRITING;
  while (polled != PGRES_POLLING_OK) {
    if (polled == PGRES_POLLING_FAILED) {
      out.detail = "connect: " + pgError(conn.get());
      return out;
    }
    if (!waitSocket(conn.get(), polled == PGRES_POLLING_WRITING, deadline)) {
      out.detail = "connect timed out after " + std::to_string(timeout.count()) + "ms";
      return out;
    }
    polled = PQconnectPoll(conn.get());
  }

  auto results = queryRows(conn.get(), kProbeSql, deadline);
  if (!results.ok()) {
    out.detail = "SELECT 1: " + results.status().message();
    return out;
  }
  const Result<Row>& alive = results->front();
  if (!alive.ok()) {
    out.detail = "SELECT 1: " + alive.status().message();
    return out;
  }
  out.success = true;

  const Result<Row>* facts = results->size() > 1 ? &(*results)[1] : nullptr;
  if (facts == nullptr || !facts->ok() || (*facts)->size() < kColumnCount) {
    // The server answers queries, so it is up; the facts are just missing this time.
    out.detail = "up; facts unavailable: " + (facts == nullptr ? std::string("no result")
                                              : !facts->ok()   ? facts->status().message()
                                                               : std::string("short row"));
    return out;
  }
  *out.facts = factsFromRow(**facts);
  const ServiceFacts& f = *out.facts;
  out.detail = f.role;
  if (auto lsn = f.attributes.find("lsn"); lsn != f.attributes.end()) {
    out.detail += ", lsn " + lsn->second;
  }
  return out;
}

}  // namespace noa::agent
