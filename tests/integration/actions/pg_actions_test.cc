// backup.pg_dump / restore.pg_restore / backup.verify against a real PostgreSQL 15 started by the
// test.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/actions/artifact_file.h"
#include "agent/actions/pg_dump_action.h"
#include "agent/actions/pg_restore_action.h"
#include "agent/actions/target_lock.h"
#include "agent/actions/verify_action.h"
#include "tests/testing/servers/pg_server.h"
#include "tests/testing/servers/pg_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::actions {
namespace {

using namespace std::chrono_literals;
using noa::testing::TempDir;

using noa::testing::pgExec;
using noa::testing::pgQuery;
using noa::testing::tableFingerprints;

class PgActionsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = noa::testing::PgServer::start({});
    ASSERT_OK(pg);
    pg_ = std::move(*pg).release();
    const std::string admin = pg_->connInfo();
    ASSERT_EQ(pgExec(admin, "create database src"), "");
    ASSERT_EQ(pgExec(pg_->connInfo("src"),
                     "create table items (id serial primary key, name text not null, "
                     "price numeric(10,2), tags text[]);"
                     "insert into items (name, price, tags) select 'item ' || g, g * 1.25, "
                     "  array['t' || (g % 7)] from generate_series(1, 20000) g;"
                     "create schema sales;"
                     "create table sales.orders (id bigint primary key, item int references "
                     "  items(id), note text, at timestamptz);"
                     "insert into sales.orders select g, 1 + g % 20000, md5(g::text), "
                     "  '2026-01-01'::timestamptz + g * interval '1 minute' "
                     "  from generate_series(1, 50000) g;"
                     "create table \"Mixed Case\" (v text);"
                     "insert into \"Mixed Case\" values ('a'), (null), ('it''s');"
                     "create table empty_one (x int);"),
              "");
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  PgDumpParams dumpParams(const std::string& db = "src") {
    PgDumpParams p;
    p.source.conninfo = pg_->connInfo(db);
    p.backup_dir = backups_.path();
    p.lock_dir = locks_.path();
    p.pg_dump = pg_->binDir() + "/pg_dump";
    p.pg_restore = pg_->binDir() + "/pg_restore";
    return p;
  }
  PgRestoreParams restoreParams(const std::string& artifact, const std::string& target) {
    PgRestoreParams p;
    p.artifact = artifact;
    p.target_db = target;
    p.server.conninfo = pg_->connInfo();
    p.lock_dir = locks_.path();
    p.pg_restore = pg_->binDir() + "/pg_restore";
    p.jobs = 2;
    return p;
  }
  VerifyParams verifyParams(const std::string& artifact, const std::string& sha256) {
    VerifyParams p;
    p.artifact = artifact;
    p.sha256 = sha256;
    p.kind = "pg_dump";
    p.pg_restore = pg_->binDir() + "/pg_restore";
    return p;
  }
  std::vector<std::string> backupFiles() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(backups_.path())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::vector<std::string> databasesLike(const std::string& pattern) {
    std::vector<std::string> out;
    for (const auto& r : pgQuery(pg_->connInfo(),
                                 "select datname from pg_database where datname "
                                 "like '" +
                                     pattern + "' order by 1")) {
      out.push_back(r.at(0));
    }
    return out;
  }

  static noa::testing::PgServer* pg_;
  TempDir backups_;
  TempDir locks_;
  ActionContext ctx_;
};

noa::testing::PgServer* PgActionsTest::pg_ = nullptr;

TEST_F(PgActionsTest, DumpThenRestoreIntoNewDatabaseGivesIdenticalTables) {
  std::vector<Progress> progress;
  ctx_.on_progress = [&](const Progress& p) { progress.push_back(p); };
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error_code << ": " << dump.error << "\n" << dump.stderr_tail;
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().phase, "done");
  EXPECT_TRUE(std::filesystem::exists(dump.artifact_path));
  EXPECT_EQ(std::filesystem::file_size(dump.artifact_path), dump.bytes);
  const std::string name = std::filesystem::path(dump.artifact_path).filename().string();
  EXPECT_TRUE(name.starts_with("src-") && name.ends_with("Z.dump")) << name;
  EXPECT_EQ(backupFiles(), (std::vector<std::string>{name, name + ".json"}));
  auto sha = sha256OfFile(dump.artifact_path);
  ASSERT_OK(sha);
  EXPECT_EQ(*sha, dump.sha256);

  std::ifstream manifest_file(dump.artifact_path + ".json");
  auto manifest = nlohmann::json::parse(manifest_file);
  EXPECT_EQ(manifest["sha256"], dump.sha256);
  EXPECT_EQ(manifest["size"], dump.bytes);
  EXPECT_EQ(manifest["format"], "custom");
  EXPECT_EQ(manifest["compression"], "none");
  EXPECT_EQ(manifest["source_db"], "src");
  EXPECT_GT(manifest["source_db_size"].get<uint64_t>(), 0u);
  EXPECT_TRUE(manifest["tool_version"].get<std::string>().starts_with("pg_dump (PostgreSQL) 15"))
      << manifest["tool_version"];
  EXPECT_TRUE(manifest["server_version"].get<std::string>().starts_with("15"));
  EXPECT_TRUE(manifest.contains("started_at") && manifest.contains("stopped_at"));

  auto restore_params = restoreParams(dump.artifact_path, "copy1");
  restore_params.sha256 = dump.sha256;
  auto restored = runPgRestore(restore_params, ctx_);
  ASSERT_TRUE(restored.ok) << restored.error_code << ": " << restored.error << "\n"
                           << restored.stderr_tail;
  EXPECT_EQ(restored.details["database"], "copy1");
  EXPECT_TRUE(databasesLike("copy1\\_\\_%").empty());

  auto source = tableFingerprints(pg_->connInfo("src"));
  auto copy = tableFingerprints(pg_->connInfo("copy1"));
  ASSERT_EQ(source.size(), 4u);
  EXPECT_EQ(copy, source);
  const auto& counts = restored.details["tables"];
  ASSERT_EQ(counts.size(), source.size()) << counts.dump();
  for (const auto& [table, fp] : source) {
    EXPECT_EQ(std::to_string(counts.value(table, -1)), fp.first) << table;
  }
  EXPECT_EQ(counts["sales.orders"], 50000);
}

TEST_F(PgActionsTest, GzipCompressionIsAParam) {
  auto p = dumpParams();
  p.compression = "gzip:1";
  p.name = "src-gz.dump";
  auto dump = runPgDump(p, ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  auto plain = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(plain.ok) << plain.error;
  EXPECT_LT(dump.bytes * 2, plain.bytes);
  EXPECT_EQ(dump.details["compress_level"], 1);
}

TEST_F(PgActionsTest, SwapReplacesAnExistingDatabaseAndKeepsTheOld) {
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  ASSERT_EQ(pgExec(pg_->connInfo(), "create database live"), "");
  ASSERT_EQ(pgExec(pg_->connInfo("live"),
                   "create table marker (v int); insert into marker "
                   "values (42)"),
            "");

  auto refused = runPgRestore(restoreParams(dump.artifact_path, "live"), ctx_);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error_code, kErrRefused);
  EXPECT_NE(refused.error.find("swap=true"), std::string::npos) << refused.error;

  // A client still connected to the old database must not block the swap.
  PGconn* client = PQconnectdb(pg_->connInfo("live").c_str());
  ASSERT_EQ(PQstatus(client), CONNECTION_OK);
  auto p = restoreParams(dump.artifact_path, "live");
  p.swap = true;
  auto swapped = runPgRestore(p, ctx_);
  ASSERT_TRUE(swapped.ok) << swapped.error_code << ": " << swapped.error;
  PGresult* res = PQexec(client, "select 1");
  EXPECT_NE(PQresultStatus(res), PGRES_TUPLES_OK);  // its session was terminated
  PQclear(res);
  PQfinish(client);

  EXPECT_EQ(tableFingerprints(pg_->connInfo("live")), tableFingerprints(pg_->connInfo("src")));
  const std::string old_name = swapped.details["old_database"];
  EXPECT_TRUE(old_name.starts_with("live__old_")) << old_name;
  EXPECT_EQ(databasesLike("live\\_\\_old\\_%"), std::vector<std::string>{old_name});
  EXPECT_TRUE(databasesLike("live\\_\\_restoring%").empty());
  // The old one is intact, only closed to new connections.
  ASSERT_EQ(pgExec(pg_->connInfo(), "alter database \"" + old_name + "\" allow_connections true"),
            "");
  EXPECT_EQ(pgQuery(pg_->connInfo(old_name), "select v from marker").at(0).at(0), "42");
}

TEST_F(PgActionsTest, BadDatabaseNameFailsAndLeavesNothing) {
  auto dump = runPgDump(dumpParams("no_such_db"), ctx_);
  EXPECT_FALSE(dump.ok);
  EXPECT_EQ(dump.error_code, kErrToolFailed);
  EXPECT_NE(dump.error.find("no_such_db"), std::string::npos) << dump.error;
  EXPECT_TRUE(backupFiles().empty());
}

TEST_F(PgActionsTest, PgDumpFailureReportsItsStderrAndLeavesNoArtifact) {
  // A role that may connect but not read one table: the size query works, pg_dump fails.
  ASSERT_EQ(pgExec(pg_->connInfo(), "create role limited login"), "");
  ASSERT_EQ(pgExec(pg_->connInfo("src"),
                   "grant usage on schema sales to limited;"
                   "grant select on items to limited"),
            "");
  auto p = dumpParams();
  p.source.user = "limited";
  auto dump = runPgDump(p, ctx_);
  EXPECT_FALSE(dump.ok);
  EXPECT_EQ(dump.error_code, kErrToolFailed);
  EXPECT_NE(dump.stderr_tail.find("permission denied"), std::string::npos) << dump.stderr_tail;
  EXPECT_NE(dump.error.find("pg_dump exited with status 1"), std::string::npos) << dump.error;
  EXPECT_TRUE(backupFiles().empty());
}

TEST_F(PgActionsTest, CancelAndTimeoutMidDumpLeaveNoPartial) {
  // A session holding an exclusive lock makes pg_dump wait on it: the dump is "in progress"
  // (the partial exists) for as long as the test wants.
  PGconn* blocker = PQconnectdb(pg_->connInfo("src").c_str());
  ASSERT_EQ(PQstatus(blocker), CONNECTION_OK);
  PQclear(PQexec(blocker, "begin; lock table sales.orders in access exclusive mode"));

  StopToken cancel;
  ctx_.cancel = &cancel;
  std::atomic<bool> dumping{false};
  ctx_.on_progress = [&](const Progress& p) {
    if (p.phase == "dump") dumping = true;
  };
  std::thread canceller([&] {
    while (!dumping) std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(500ms);
    cancel.requestStop();
  });
  auto p = dumpParams();
  p.name = "cancelled.dump";
  auto cancelled = runPgDump(p, ctx_);
  canceller.join();
  EXPECT_FALSE(cancelled.ok);
  EXPECT_EQ(cancelled.error_code, kErrCancelled) << cancelled.error;
  EXPECT_TRUE(backupFiles().empty());

  ctx_.cancel = nullptr;
  p.name = "timeout.dump";
  p.timeout_ms = 1000;
  auto timed_out = runPgDump(p, ctx_);
  EXPECT_FALSE(timed_out.ok);
  EXPECT_EQ(timed_out.error_code, kErrTimeout) << timed_out.error;
  EXPECT_TRUE(backupFiles().empty());

  PQclear(PQexec(blocker, "rollback"));
  PQfinish(blocker);
  // No pg_dump survived: nothing waits on the lock any more.
  auto waiting = pgQuery(pg_->connInfo(),
                         "select count(*) from pg_stat_activity where "
                         "application_name = 'pg_dump'");
  EXPECT_EQ(waiting.at(0).at(0), "0");
}

TEST_F(PgActionsTest, CorruptArtifactIsDetectedBeforeRestoring) {
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  {
    std::fstream f(dump.artifact_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(dump.bytes / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(dump.bytes / 2));
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  auto p = restoreParams(dump.artifact_path, "never");
  p.sha256 = dump.sha256;
  auto restored = runPgRestore(p, ctx_);
  EXPECT_FALSE(restored.ok);
  EXPECT_EQ(restored.error_code, kErrChecksumMismatch);
  EXPECT_NE(restored.error.find(dump.sha256), std::string::npos);
  EXPECT_TRUE(databasesLike("never%").empty());
}

TEST_F(PgActionsTest, FailedRestoreDropsItsScratchDatabase) {
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  std::filesystem::resize_file(dump.artifact_path, dump.bytes * 2 / 3);
  auto restored = runPgRestore(restoreParams(dump.artifact_path, "broken"), ctx_);
  EXPECT_FALSE(restored.ok);
  EXPECT_EQ(restored.error_code, kErrToolFailed);
  EXPECT_FALSE(restored.stderr_tail.empty());
  EXPECT_TRUE(databasesLike("broken%").empty());
}

TEST_F(PgActionsTest, VerifyOfAnIntactDumpCountsItsTocEntries) {
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  std::vector<std::string> phases;
  ctx_.on_progress = [&](const Progress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  };
  // The catalog may hold the digest in upper case.
  std::string upper = dump.sha256;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto verified = runVerify(verifyParams(dump.artifact_path, upper), ctx_);
  ASSERT_TRUE(verified.ok) << verified.error_code << ": " << verified.error << "\n"
                           << verified.stderr_tail;
  EXPECT_EQ(phases, (std::vector<std::string>{"hash", "list", "done"}));
  EXPECT_EQ(verified.sha256, dump.sha256);
  EXPECT_EQ(verified.bytes, dump.bytes);
  EXPECT_EQ(verified.artifact_path, dump.artifact_path);
  EXPECT_EQ(verified.details["kind"], "pg_dump");
  EXPECT_EQ(verified.details["sha256"], dump.sha256);
  EXPECT_EQ(verified.details["size"], dump.bytes);
  // 4 tables with their data, a schema, a sequence, keys, a foreign key: well over 8 entries.
  EXPECT_GE(verified.details["toc_entries"].get<int64_t>(), 8) << verified.details.dump();
  // The kind follows the name when not given.
  auto parsed = VerifyParams::fromJson({{"artifact", dump.artifact_path}, {"sha256", dump.sha256}});
  ASSERT_OK(parsed);
  EXPECT_EQ(parsed->kind, "pg_dump");
}

TEST_F(PgActionsTest, VerifyDetectsOneFlippedByte) {
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  {
    std::fstream f(dump.artifact_path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(dump.bytes / 2));
    char c = 0;
    f.read(&c, 1);
    f.seekp(static_cast<std::streamoff>(dump.bytes / 2));
    c = static_cast<char>(c ^ 0x01);
    f.write(&c, 1);
  }
  auto actual = sha256OfFile(dump.artifact_path);
  ASSERT_OK(actual);
  auto verified = runVerify(verifyParams(dump.artifact_path, dump.sha256), ctx_);
  EXPECT_FALSE(verified.ok);
  EXPECT_EQ(verified.error_code, kErrChecksumMismatch) << verified.error;
  EXPECT_NE(verified.error.find(dump.sha256), std::string::npos) << verified.error;
  EXPECT_NE(verified.error.find(*actual), std::string::npos) << verified.error;
  EXPECT_EQ(verified.sha256, *actual);
  EXPECT_TRUE(std::filesystem::exists(dump.artifact_path)) << "verify only reads";
}

TEST_F(PgActionsTest, VerifyOfGarbageWithItsOwnChecksumFailsInPgRestoreList) {
  backups_.write("garbage.dump", std::string(4096, 'x') + "not a custom-format archive\n");
  const std::string path = backups_.file("garbage.dump");
  auto sha = sha256OfFile(path);
  ASSERT_OK(sha);
  auto verified = runVerify(verifyParams(path, *sha), ctx_);
  EXPECT_FALSE(verified.ok);
  EXPECT_EQ(verified.error_code, kErrVerifyFailed) << verified.error;
  EXPECT_NE(verified.error.find(path), std::string::npos) << verified.error;
  EXPECT_NE(verified.stderr_tail.find("pg_restore"), std::string::npos) << verified.stderr_tail;
}

TEST_F(PgActionsTest, VerifyOfAMissingFileIsAnIoErrorNamingThePath) {
  const std::string path = backups_.file("gone.dump");
  auto verified = runVerify(verifyParams(path, std::string(64, '0')), ctx_);
  EXPECT_FALSE(verified.ok);
  EXPECT_EQ(verified.error_code, kErrIo);
  EXPECT_NE(verified.error.find(path), std::string::npos) << verified.error;
  EXPECT_NE(verified.error.find("not found"), std::string::npos) << verified.error;

  auto dir = runVerify(verifyParams(backups_.path(), std::string(64, '0')), ctx_);
  EXPECT_EQ(dir.error_code, kErrIo);
  EXPECT_NE(dir.error.find("not a regular file"), std::string::npos) << dir.error;
}

TEST_F(PgActionsTest, VerifyStopsOnCancel) {
  auto dump = runPgDump(dumpParams(), ctx_);
  ASSERT_TRUE(dump.ok) << dump.error;
  StopToken cancel;
  cancel.requestStop();
  ctx_.cancel = &cancel;
  auto verified = runVerify(verifyParams(dump.artifact_path, dump.sha256), ctx_);
  EXPECT_EQ(verified.error_code, kErrCancelled) << verified.error;
}

// The dump's own verify is the same check: a pg_restore that cannot run fails it as
// verify_failed (pg_dump's code for any failed verify), and the dump is removed.
TEST_F(PgActionsTest, DumpWhoseVerifyCannotRunLeavesNoArtifact) {
  auto p = dumpParams();
  p.pg_restore = "/nonexistent/pg_restore";
  auto dump = runPgDump(p, ctx_);
  EXPECT_FALSE(dump.ok);
  EXPECT_EQ(dump.error_code, kErrVerifyFailed) << dump.error;
  EXPECT_NE(dump.error.find("artifact removed"), std::string::npos) << dump.error;
  EXPECT_TRUE(backupFiles().empty());
}

TEST_F(PgActionsTest, BusyTargetIsRefused) {
  auto held = TargetLock::acquire(locks_.path(), pgLockTarget("src"));
  ASSERT_OK(held);
  auto dump = runPgDump(dumpParams(), ctx_);
  EXPECT_FALSE(dump.ok);
  EXPECT_EQ(dump.error_code, kErrBusy);
  EXPECT_NE(dump.error.find("pid " + std::to_string(::getpid())), std::string::npos) << dump.error;
  EXPECT_TRUE(backupFiles().empty());
}

// Disk full: on a 1 MiB tmpfs the free-space check refuses first; with the check disabled the
// write itself hits ENOSPC. Either way the earlier backup stays and no partial remains.
TEST_F(PgActionsTest, DiskFullKeepsEarlierBackupsAndRemovesThePartial) {
  TempDir small;
  if (::mount("tmpfs", small.path().c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (needs root)";
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{small.path()};
  small.write("earlier.dump", "earlier backup");
  auto p = dumpParams();
  p.backup_dir = small.path();
  auto refused = runPgDump(p, ctx_);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.error_code, kErrNoSpace);
  EXPECT_NE(refused.error.find("needed"), std::string::npos) << refused.error;

  p.space_factor = 0;
  auto full = runPgDump(p, ctx_);
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(full.error_code, kErrNoSpace) << full.error;
  EXPECT_NE(full.error.find(std::strerror(ENOSPC)), std::string::npos) << full.error;
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(small.path())) {
    left.push_back(e.path().filename().string());
  }
  EXPECT_EQ(left, std::vector<std::string>{"earlier.dump"});
}

}  // namespace
}  // namespace noa::agent::actions
