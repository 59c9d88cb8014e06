#include "tests/testing/servers/pg_sql.h"

#include <libpq-fe.h>

namespace noa::testing {

// Rows of one query (text values), or an error string in the first cell of a single row.
std::vector<std::vector<std::string>> pgQuery(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::vector<std::vector<std::string>> rows;
  if (PQstatus(conn) != CONNECTION_OK) {
    rows.push_back({std::string("ERROR ") + PQerrorMessage(conn)});
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      rows.push_back({std::string("ERROR ") + PQresultErrorMessage(res)});
    } else {
      for (int r = 0; r < PQntuples(res); ++r) {
        std::vector<std::string> row;
        for (int c = 0; c < PQnfields(res); ++c) row.emplace_back(PQgetvalue(res, r, c));
        rows.push_back(std::move(row));
      }
    }
    PQclear(res);
  }
  PQfinish(conn);
  return rows;
}

std::string pgExec(const std::string& conninfo, const std::string& sql) {
  auto rows = pgQuery(conninfo, sql);
  if (!rows.empty() && !rows[0].empty() && rows[0][0].starts_with("ERROR ")) return rows[0][0];
  return "";
}

// table -> (row count, md5 of all rows in a stable order): what "identical" means here.
std::map<std::string, std::pair<std::string, std::string>> tableFingerprints(
    const std::string& conninfo) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  auto tables = pgQuery(conninfo,
                        "select quote_ident(n.nspname) || '.' || quote_ident(c.relname), "
                        "n.nspname || '.' || c.relname from pg_class c "
                        "join pg_namespace n on n.oid = c.relnamespace where c.relkind = 'r' "
                        "and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'");
  for (const auto& t : tables) {
    auto r = pgQuery(conninfo,
                     "select count(*), coalesce(md5(string_agg(x::text, E'\\n' order by "
                     "x::text)), '') from " +
                         t[0] + " x");
    out[t[1]] = {r.at(0).at(0), r.at(0).at(1)};
  }
  return out;
}

}  // namespace noa::testing
