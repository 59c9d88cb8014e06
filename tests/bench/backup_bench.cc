// backup.pg_dump through the agent (runPgDump: pg_dump stdout -> pipe -> SHA-256 -> partial ->
// fsync -> rename) vs plain `pg_dump -f` with the same format and compression, in one run on
// one generated database. Prints medians and the ratio (issue target: <= 1.05x).
//
//   build-agent/tests/noa_backup_bench [--mb 400] [--reps 3] [--compression none]
//                                       [--dir /tmp]
#include <libpq-fe.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/actions/pg_dump_action.h"
#include "common/process/process.h"
#include "tests/testing/servers/pg_server.h"

namespace {

using namespace noa;
using namespace noa::agent::actions;
using Seconds = std::chrono::duration<double>;

bool exec(const std::string& conninfo, const std::string& sql, std::string* value = nullptr) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK;
  if (ok) {
    PGresult* res = PQexec(conn, sql.c_str());
    ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;
    if (!ok) std::fprintf(stderr, "%s\n", PQresultErrorMessage(res));
    if (ok && value != nullptr && PQntuples(res) > 0) *value = PQgetvalue(res, 0, 0);
    PQclear(res);
  } else {
    std::fprintf(stderr, "%s\n", PQerrorMessage(conn));
  }
  PQfinish(conn);
  return ok;
}

// CPU seconds (user + sys) this process has used: the agent's own cost of streaming, hashing
// and writing, independent of how busy the machine is.
double selfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int mb = 400;
  int reps = 3;
  std::string compression = "none";
  std::string dir = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mb")
      mb = std::atoi(argv[i + 1]);
    else if (flag == "--reps")
      reps = std::atoi(argv[i + 1]);
    else if (flag == "--compression")
      compression = argv[i + 1];
    else if (flag == "--dir")
      dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }

  auto pg = testing::PgServer::start({});
  if (!pg.ok()) {
    std::fprintf(stderr, "postgres: %s\n", pg.status().toString().c_str());
    return 1;
  }
  // Dataset "B"-like (reference section 4): two md5 hex strings per row, ~2x compressible;
  // ~100 bytes per row on disk with its primary key.
  const std::string conninfo = (*pg)->connInfo("bench");
  const long rows = static_cast<long>(mb) * 8500;
  std::string size;
  auto t0 = std::chrono::steady_clock::now();
  if (!exec((*pg)->connInfo(), "create database bench") ||
      !exec(conninfo,
            "create table events (id bigint primary key, a text, b text, at "
            "timestamptz); insert into events select g, md5(g::text), md5((g * 7)::text), "
            "'2026-01-01'::timestamptz + g * interval '1 second' from generate_series(1, " +
                std::to_string(rows) + ") g") ||
      !exec(conninfo, "vacuum analyze events") ||
      !exec(conninfo, "select pg_database_size('bench')", &size)) {
    return 1;
  }
  std::printf("database: %.0f MB (%ld rows), generated in %.1f s\n", std::stod(size) / 1e6, rows,
              Seconds(std::chrono::steady_clock::now() - t0).count());

  std::string work = dir + "/noa-backup-bench-XXXXXX";
  if (::mkdtemp(work.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  PgDumpParams params;
  params.source.conninfo = conninfo;
  params.backup_dir = work;
  params.lock_dir = work + "/locks";
  params.compression = compression;
  params.pg_dump = (*pg)->binDir() + "/pg_dump";
  params.pg_restore = (*pg)->binDir() + "/pg_restore";
  const int z = params.zLevel();
  if (z < 0) {
    std::fprintf(stderr, "bad --compression %s\n", compression.c_str());
    return 2;
  }

  std::vector<double> plain_s, agent_s, agent_verify_s, agent_cpu_s;
  uint64_t plain_bytes = 0, agent_bytes = 0;
  for (int rep = 0; rep < reps; ++rep) {
    // Alternate the order so neither side always runs with the warmer cache.
    for (int turn = 0; turn < 2; ++turn) {
      const bool plain_turn = (rep + turn) % 2 == 0;
      if (plain_turn) {
        ProcessSpec spec;
        spec.argv = {params.pg_dump,
                     "--format=custom",
                     "--compress=" + std::to_string(z),
                     "--no-password",
                     "--file=" + work + "/plain.dump",
                     "--dbname=" + conninfo};
        auto start = std::chrono::steady_clock::now();
        auto run = runProcess(spec);
        double s = Seconds(std::chrono::steady_clock::now() - start).count();
        if (!run.ok() || run->exit_code != 0) {
          std::fprintf(stderr, "plain pg_dump failed: %s\n",
                       run.ok() ? run->stderr_tail.c_str() : run.status().toString().c_str());
          return 1;
        }
        plain_bytes = std::filesystem::file_size(work + "/plain.dump");
        plain_s.push_back(s);
        std::filesystem::remove(work + "/plain.dump");
      } else {
        for (bool verify : {false, true}) {
          params.verify = verify;
          params.name = verify ? "agent-verify.dump" : "agent.dump";
          const double cpu_before = selfCpuSeconds();
          auto r = runPgDump(params, ActionContext{});
          if (!verify) agent_cpu_s.push_back(selfCpuSeconds() - cpu_before);
          if (!r.ok) {
            std::fprintf(stderr, "runPgDump failed: %s: %s\n%s\n", r.error_code.c_str(),
                         r.error.c_str(), r.stderr_tail.c_str());
            return 1;
          }
          (verify ? agent_verify_s : agent_s).push_back(Seconds(r.duration).count());
          agent_bytes = r.bytes;
          std::filesystem::remove(r.artifact_path);
          std::filesystem::remove(r.artifact_path + ".json");
        }
      }
    }
    std::printf("rep %d: plain %.2f s, agent %.2f s, agent+verify %.2f s\n", rep + 1,
                plain_s.back(), agent_s.back(), agent_verify_s.back());
  }
  std::filesystem::remove_all(work);

  const double db_mb = std::stod(size) / 1e6;
  std::printf("\npg_dump -Fc -Z%d, %d reps, medians (MB/s of database size):\n", z, reps);
  std::printf("  plain pg_dump -f          %6.2f s  %6.0f MB/s  out %.0f MB\n", median(plain_s),
              db_mb / median(plain_s), plain_bytes / 1e6);
  std::printf(
      "  agent runPgDump           %6.2f s  %6.0f MB/s  out %.0f MB (incl. size query, "
      "version check, sha256, manifest)\n",
      median(agent_s), db_mb / median(agent_s), agent_bytes / 1e6);
  std::printf("  agent process CPU         %6.2f s  (user+sys of the agent side only)\n",
              median(agent_cpu_s));
  std::printf("  agent runPgDump + verify  %6.2f s  (re-hash + pg_restore --list)\n",
              median(agent_verify_s));
  std::printf("ratio agent/plain: %.3f (target <= 1.05)\n", median(agent_s) / median(plain_s));
  return 0;
}
