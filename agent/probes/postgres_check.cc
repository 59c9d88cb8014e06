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

// The server's facts in one statement. pg_current_wal_lsn() raises an error during recovery, so
// it is only evaluated on a primary (CASE does not fold volatile functions).
constexpr const char* kFactsQuery =
    "SELECT pg_is_in_recovery(), current_setting('server_version'), "
    "CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END, "
    "pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text";

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

// Runs `sql` and returns its first row (NULLs as nullopt).
Result<Row> queryRow(PGconn* conn, const char* sql, SteadyTime deadline) {
  if (PQsendQuery(conn, sql) == 0) return Status::Unavailable(pgError(conn));
  std::optional<Result<Row>> first;
  while (true) {
    while (PQisBusy(conn) != 0) {
      if (!waitSocket(conn, false, deadline)) return Status::DeadlineExceeded("query timed out");
      if (PQconsumeInput(conn) == 0) return Status::Unavailable(pgError(conn));
    }
    PGresult* res = PQgetResult(conn);
    if (res == nullptr) break;
    if (!first) {
      if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        first = Status::Unavailable(oneLine(PQresultErrorMessage(res)));
      } else if (PQntuples(res) < 1) {
        first = Status::Internal("no row returned");
      } else {
        Row row;
        for (int c = 0; c < PQnfields(res); ++c) {
          if (PQgetisnull(res, 0, c) != 0) {
            row.emplace_back(std::nullopt);
          } else {
            row.emplace_back(PQgetvalue(res, 0, c));
          }
        }
        first = std::move(row);
      }
    }
    PQclear(res);
  }
  if (!first) return Status::Internal("no result");
  return std::move(*first);
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

  auto alive = queryRow(conn.get(), "SELECT 1", deadline);
  if (!alive.ok()) {
    out.detail = "SELECT 1: " + alive.status().message();
    return out;
  }
  out.success = true;

  auto facts = queryRow(conn.get(), kFactsQuery, deadline);
  if (!facts.ok() || facts->size() < 5) {
    // The server answers queries, so it is up; the facts are just missing this time.
    out.detail = "up; facts unavailable: " +
                 (facts.ok() ? std::string("short row") : facts.status().message());
    return out;
  }
  const Row& row = *facts;
  const bool replica = row[0].value_or("f") == "t";
  ServiceFacts& f = *out.facts;
  f.role = replica ? "replica" : "primary";
  if (row[1]) f.attributes["server_version"] = *row[1];
  if (replica) {
    if (row[3]) f.attributes["receive_lsn"] = *row[3];
    if (row[4]) f.attributes["replay_lsn"] = *row[4];
    // What a failover compares: how far this replica has applied.
    if (row[4]) f.attributes["lsn"] = *row[4];
  } else if (row[2]) {
    f.attributes["lsn"] = *row[2];
  }
  out.detail = f.role;
  if (f.attributes.count("lsn")) out.detail += ", lsn " + f.attributes["lsn"];
  return out;
}

}  // namespace noa::agent
