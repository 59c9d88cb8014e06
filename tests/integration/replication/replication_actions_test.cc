// pg.promote / pg.follow (with pg_rewind) / PgStopFence and the postgres probe's replication
// attributes against real PostgreSQL 15 replica sets started by the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "agent/actions/target_lock.h"
#include "agent/probes/checks.h"
#include "agent/replication/pg_follow_action.h"
#include "agent/replication/pg_promote_action.h"
#include "agent/replication/service_fences.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/servers/pg_replica_set.h"
#include "tests/testing/servers/pg_sql.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::replication {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using noa::testing::pgExec;
using noa::testing::pgQuery;
using noa::testing::PgReplicaSet;

class PgReplicationTest : public ::testing::Test {
 protected:
  actions::ActionResult promote(PgReplicaSet& set, size_t i) {
    auto p = PgPromoteParams::fromJson(
        {{"host", "127.0.0.1"}, {"port", set.port(i)}, {"lock_dir", locks_.path()}});
    EXPECT_OK(p);
    if (!p.ok()) return {};
    return runPgPromote(*p, ctx_);
  }
  actions::ActionResult follow(PgReplicaSet& set, size_t i, size_t primary,
                               const std::string& rewind = "auto") {
    auto p = PgFollowParams::fromJson({{"primary_host", "127.0.0.1"},
                                       {"primary_port", set.port(primary)},
                                       {"application_name", set.name(i)},
                                       {"host", "127.0.0.1"},
                                       {"port", set.port(i)},
                                       {"data_dir", set.dataDir(i)},
                                       {"rewind", rewind},
                                       {"timeout_ms", 60000},
                                       {"stream_wait_ms", 5000},
                                       {"lock_dir", locks_.path()}});
    EXPECT_OK(p);
    if (!p.ok()) return {};
    return runPgFollow(*p, ctx_);
  }
  // Polls a replica until `sql` returns `want` (replication is asynchronous).
  static bool eventually(const std::string& conninfo, const std::string& sql,
                         const std::string& want, std::chrono::milliseconds timeout = 15s) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto rows = pgQuery(conninfo, sql);
      if (!rows.empty() && !rows[0].empty() && rows[0][0] == want) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
  static std::string one(const std::string& conninfo, const std::string& sql) {
    auto rows = pgQuery(conninfo, sql);
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }

  noa::testing::TempDir locks_;
  actions::ActionContext ctx_;
};

TEST_F(PgReplicationTest, KilledPrimaryPromoteFollowAndRewindTheOldPrimary) {
  auto set_or = PgReplicaSet::start({});
  ASSERT_OK(set_or);
  PgReplicaSet& set = **set_or;
  ASSERT_EQ(pgExec(set.conninfo(0),
                   "create table t (id int primary key, v text);"
                   "insert into t values (1, 'before')"),
            "");
  ASSERT_TRUE(eventually(set.conninfo(1), "select count(*) from t", "1"));
  ASSERT_TRUE(eventually(set.conninfo(2), "select count(*) from t", "1"));

  set.killMember(0);
  auto promoted = promote(set, 1);
  ASSERT_TRUE(promoted.ok) << promoted.error_code << ": " << promoted.error;
  RecordProperty("promote_ms", static_cast<int>(promoted.duration.count()));
  EXPECT_EQ(promoted.details["promoted"], true);
  EXPECT_EQ(promoted.details["already_primary"], false);
  EXPECT_EQ(promoted.details["timeline"], 2);
  EXPECT_FALSE(promoted.details["lsn"].get<std::string>().empty());
  EXPECT_EQ(one(set.conninfo(1), "select pg_is_in_recovery()"), "f");
  ASSERT_EQ(pgExec(set.conninfo(1), "insert into t values (2, 'on r1')"), "");

  auto again = promote(set, 1);
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.details["already_primary"], true);

  // r2 (a running standby whose primary is gone) follows r1 without a restart.
  auto r2 = follow(set, 2, 1);
  ASSERT_TRUE(r2.ok) << r2.error_code << ": " << r2.error;
  EXPECT_EQ(r2.details["was"], "replica");
  EXPECT_EQ(r2.details["rewound"], false);
  EXPECT_EQ(r2.details["timeline"], 2);
  ASSERT_EQ(pgExec(set.conninfo(1), "insert into t values (3, 'after r2 follows')"), "");
  EXPECT_TRUE(eventually(set.conninfo(2), "select count(*) from t", "3"));

  // The old primary comes back as a primary and takes a write r1 never sees: it has diverged.
  ASSERT_OK(set.member(0).start());
  ASSERT_EQ(pgExec(set.conninfo(0), "insert into t values (100, 'diverged')"), "");
  auto p0 = follow(set, 0, 1);
  ASSERT_TRUE(p0.ok) << p0.error_code << ": " << p0.error;
  EXPECT_EQ(p0.details["was"], "primary");
  EXPECT_EQ(p0.details["rewound"], true);
  EXPECT_EQ(p0.details["timeline"], 2);
  EXPECT_EQ(one(set.conninfo(0), "select pg_is_in_recovery()"), "t");
  EXPECT_EQ(one(set.conninfo(0), "select count(*) from t where id = 100"), "0");
  ASSERT_EQ(pgExec(set.conninfo(1), "insert into t values (4, 'after p0 follows')"), "");
  EXPECT_TRUE(eventually(set.conninfo(0), "select string_agg(id::text, ',' order by id) from t",
                         "1,2,3,4"));
  EXPECT_NE(pgExec(set.conninfo(0), "insert into t values (5, 'refused')"), "");
  // The primary lists both under their application_names.
  EXPECT_TRUE(eventually(set.conninfo(1),
                         "select string_agg(application_name, ',' order by application_name) "
                         "from pg_stat_replication",
                         "p0,r2"));

  // Following the same primary again changes nothing and is still a success.
  auto repeat = follow(set, 2, 1);
  ASSERT_TRUE(repeat.ok) << repeat.error;
  EXPECT_EQ(repeat.details["was"], "replica");
}

TEST_F(PgReplicationTest, CrashedDivergedOldPrimaryIsRecoveredThenRewound) {
  auto set_or = PgReplicaSet::start({.replicas = 1});
  ASSERT_OK(set_or);
  PgReplicaSet& set = **set_or;
  ASSERT_EQ(pgExec(set.conninfo(0), "create table t (id int primary key)"), "");
  ASSERT_TRUE(eventually(set.conninfo(1), "select count(*) from t", "0"));
  set.killMember(0);
  auto promoted = promote(set, 1);
  ASSERT_TRUE(promoted.ok) << promoted.error;
  ASSERT_OK(set.member(0).start());
  ASSERT_EQ(pgExec(set.conninfo(0), "insert into t select generate_series(1, 1000)"), "");
  set.member(0).kill();  // crash: pg_control still says "in production"

  auto p0 = follow(set, 0, 1);
  ASSERT_TRUE(p0.ok) << p0.error_code << ": " << p0.error;
  EXPECT_EQ(p0.details["was"], "stopped");
  EXPECT_EQ(p0.details["rewound"], true);
  EXPECT_EQ(one(set.conninfo(0), "select count(*) from t"), "0");
  ASSERT_EQ(pgExec(set.conninfo(1), "insert into t values (7)"), "");
  EXPECT_TRUE(eventually(set.conninfo(0), "select count(*) from t", "1"));
}

TEST_F(PgReplicationTest, StandbyAheadOfTheNewPrimaryIsStoppedAndRewound) {
  auto set_or = PgReplicaSet::start({});
  ASSERT_OK(set_or);
  PgReplicaSet& set = **set_or;
  ASSERT_EQ(pgExec(set.conninfo(0), "create table t (id int)"), "");
  ASSERT_TRUE(eventually(set.conninfo(1), "select count(*) from t", "0"));
  ASSERT_TRUE(eventually(set.conninfo(2), "select count(*) from t", "0"));
  // r1 stops receiving; r2 gets a row r1 never will, then the primary dies.
  ASSERT_EQ(pgExec(set.conninfo(1), "alter system set primary_conninfo = ''"), "");
  ASSERT_EQ(pgExec(set.conninfo(1), "select pg_reload_conf()"), "");
  ASSERT_TRUE(eventually(set.conninfo(1), "select count(*) from pg_stat_wal_receiver", "0"));
  ASSERT_EQ(pgExec(set.conninfo(0), "insert into t values (1)"), "");
  ASSERT_TRUE(eventually(set.conninfo(2), "select count(*) from t", "1"));
  set.killMember(0);
  auto promoted = promote(set, 1);
  ASSERT_TRUE(promoted.ok) << promoted.error;

  auto r2 = follow(set, 2, 1);
  ASSERT_TRUE(r2.ok) << r2.error_code << ": " << r2.error;
  EXPECT_EQ(r2.details["was"], "replica");
  EXPECT_EQ(r2.details["rewound"], true);
  EXPECT_EQ(one(set.conninfo(2), "select count(*) from t"), "0");
  ASSERT_EQ(pgExec(set.conninfo(1), "insert into t values (2)"), "");
  EXPECT_TRUE(eventually(set.conninfo(2), "select string_agg(id::text, ',') from t", "2"));
}

TEST_F(PgReplicationTest, StopFenceRefusesWritesUntilUnfenced) {
  auto set_or = PgReplicaSet::start({.replicas = 0});
  ASSERT_OK(set_or);
  PgReplicaSet& set = **set_or;
  ASSERT_EQ(pgExec(set.conninfo(0), "create table t (id int)"), "");
  FenceOptions o;
  o.pg_data_dir = set.dataDir(0);
  o.service_port = set.port(0);
  auto fence = makeServiceFence("postgres", o);
  ASSERT_NE(fence, nullptr);
  EXPECT_EQ(fence->method(), "pg_stop");
  ASSERT_OK(fence->fence());
  EXPECT_NE(pgExec(set.conninfo(0), "insert into t values (1)"), "");
  ASSERT_OK(fence->fence());  // idempotent
  {
    // A replication action (pg.follow mid-rewind) holds the lock: no start under its feet.
    o.lock_dir = locks_.path();
    auto locked_fence = makeServiceFence("postgres", o);
    auto held = actions::TargetLock::acquire(locks_.path(), kReplicationLane);
    ASSERT_OK(held);
    EXPECT_EQ(locked_fence->unfence().code(), StatusCode::kUnavailable);
    EXPECT_NE(pgExec(set.conninfo(0), "select 1"), "");
  }
  ASSERT_OK(fence->unfence());
  EXPECT_EQ(pgExec(set.conninfo(0), "insert into t values (2)"), "");
  ASSERT_OK(fence->unfence());
  EXPECT_EQ(one(set.conninfo(0), "select count(*) from t"), "1");
  // postmaster.opts kept the port and settings.
  EXPECT_EQ(one(set.conninfo(0), "show wal_log_hints"), "on");
  EXPECT_EQ(makeServiceFence("http", o), nullptr);
}

TEST_F(PgReplicationTest, ProbeReportsSyncStandbysAndReplicaPositions) {
  auto set_or = PgReplicaSet::start({.replicas = 2, .synchronous = true});
  ASSERT_OK(set_or);
  PgReplicaSet& set = **set_or;
  ASSERT_EQ(pgExec(set.conninfo(0), "create table t (id int); insert into t values (1)"), "");
  // A standby that has just connected is still catching up (not yet quorum): wait for both.
  CheckOutcome primary;
  noa::testing::waitUntil(
      [&] {
        primary = checkPostgres(PostgresCheck{set.conninfo(0)}, 2000ms);
        return primary.facts && primary.facts->attributes["sync_standbys"] == "r1,r2";
      },
      10s);
  ASSERT_TRUE(primary.success) << primary.detail;
  ASSERT_TRUE(primary.facts);
  EXPECT_EQ(primary.facts->role, "primary");
  EXPECT_EQ(primary.facts->attributes["replica_names"], "r1,r2");
  EXPECT_EQ(primary.facts->attributes["sync_standbys"], "r1,r2");  // ANY 1: both are quorum
  EXPECT_EQ(primary.facts->attributes["timeline"], "1");
  auto replica = checkPostgres(PostgresCheck{set.conninfo(1)}, 2000ms);
  ASSERT_TRUE(replica.success) << replica.detail;
  EXPECT_EQ(replica.facts->role, "replica");
  EXPECT_EQ(replica.facts->attributes["timeline"], "1");
  EXPECT_EQ(replica.facts->attributes.count("receive_lsn"), 1u);
  EXPECT_EQ(replica.facts->attributes.count("replay_lsn"), 1u);
  EXPECT_EQ(replica.facts->attributes.count("sync_standbys"), 0u);

  auto async_set = PgReplicaSet::start({.replicas = 1});
  ASSERT_OK(async_set);
  auto async_primary = checkPostgres(PostgresCheck{(*async_set)->conninfo(0)}, 2000ms);
  ASSERT_TRUE(async_primary.success);
  EXPECT_EQ(async_primary.facts->attributes["replica_names"], "r1");
  EXPECT_EQ(async_primary.facts->attributes["sync_standbys"], "");
}

TEST_F(PgReplicationTest, BadInputAndDeadServer) {
  auto missing = PgFollowParams::fromJson(
      {{"host", "127.0.0.1"}, {"port", 5432}, {"data_dir", "/nonexistent"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("primary_host"), std::string::npos);
  EXPECT_FALSE(
      PgFollowParams::fromJson(
          {{"primary_host", "h"}, {"port", 1}, {"data_dir", "/d"}, {"rewind", "sometimes"}})
          .ok());
  EXPECT_FALSE(PgPromoteParams::fromJson({{"port", 1}, {"bogus", 1}}).ok());

  auto port = noa::testing::pickFreePort();
  ASSERT_OK(port);
  auto p = PgPromoteParams::fromJson(
      {{"host", "127.0.0.1"}, {"port", *port}, {"lock_dir", locks_.path()}});
  ASSERT_OK(p);
  auto r = runPgPromote(*p, ctx_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, kErrUnreachable);
  EXPECT_NE(r.error.find("cannot promote"), std::string::npos) << r.error;

  auto f = PgFollowParams::fromJson({{"primary_host", "127.0.0.1"},
                                     {"primary_port", *port},
                                     {"host", "127.0.0.1"},
                                     {"port", *port + 1},
                                     {"data_dir", locks_.path()},
                                     {"lock_dir", locks_.path()}});
  ASSERT_OK(f);
  auto fr = runPgFollow(*f, ctx_);
  EXPECT_FALSE(fr.ok);
  EXPECT_EQ(fr.error_code, actions::kErrInvalidParams) << fr.error;  // no cluster there
}

}  // namespace
}  // namespace noa::agent::replication
