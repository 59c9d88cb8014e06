// Failover end to end with real PostgreSQL 15: a primary and two streaming replicas, each
// with a real noa-agent, and a real noa-controller (CURVE and REST auth on), all on loopback.
// A writer keeps inserting through a libpq multi-host connection string with
// target_session_attrs=read-write, as a client of such a cluster would.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/failover/failover_fixture.h"
#include "tests/testing/harness/tcp_proxy.h"
#include "tests/testing/servers/pg_replica_set.h"
#include "tests/testing/servers/pg_sql.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

pid_t postmasterPid(const std::string& data_dir) {
  std::ifstream in(data_dir + "/postmaster.pid");
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

class PgFailoverTest : public ::testing::Test {
 protected:
  void start(bool synchronous = false, const std::string& policy = "",
             bool proxy_for_primary = false) {
    PgReplicaSetOptions options;
    options.primary_name = "pg-1";
    options.names = {"pg-2", "pg-3"};
    if (synchronous) options.settings = {"synchronous_standby_names=FIRST 1 (\"pg-2\", \"pg-3\")"};
    auto set = PgReplicaSet::start(options);
    ASSERT_TRUE(set.ok()) << set.status().toString();
    set_ = std::move(set).value();
    ASSERT_EQ(pgExec(set_->conninfo(0), "create table writes (n bigint primary key)"), "");
    auto cluster = NoaCluster::create(dir_.path(), {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN});
    ASSERT_TRUE(cluster.ok()) << cluster.status().toString();
    cluster_ = std::move(cluster).value();
    std::vector<std::string> controller_args;
    if (!policy.empty()) {
      const std::string path = dir_.path() + "/policy.yaml";
      std::ofstream(path) << policy;
      controller_args = {"--policy-file", path};
    }
    ASSERT_TRUE(cluster_->startController(controller_args).ok()) << cluster_->logs();
    if (proxy_for_primary) {
      auto proxy = TcpProxy::start(cluster_->zmqPort());
      ASSERT_TRUE(proxy.ok());
      proxy_ = std::move(proxy).value();
      cluster_->setAgentController("pg-1", "tcp://127.0.0.1:" + std::to_string(proxy_->port()));
    }
    for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(startAgent(i).ok()) << cluster_->logs();
    ASSERT_TRUE(waitUntil([&] { return primaryOf(*cluster_, "postgres") == "pg-1"; }, 30s))
        << failoverState(*cluster_, "postgres").dump(2) << cluster_->logs();
    // Settled: both replicas stream from pg-1, its agent holds the lease and the controller
    // knows all three members (streaming alone says nothing of the agents).
    ASSERT_TRUE(waitUntil([&] {
      const auto s = streamingFrom(0);
      const json state = failoverState(*cluster_, "postgres");
      return s.count("pg-2") && s.count("pg-3") && state["lease_valid"] == true &&
             state["members"].size() == 3;
    }, 60s));
  }

  Status startAgent(size_t i) {
    return cluster_->startAgent(set_->name(i),
                                {"--service", "postgres", "--kind", "postgres", "--service-host",
                                 "127.0.0.1", "--service-port", std::to_string(set_->port(i)),
                                 "--pg-conninfo", set_->conninfo(i), "--pg-data-dir",
                                 set_->dataDir(i)});
  }

  // host=127.0.0.1,127.0.0.1,... port=a,b,c target_session_attrs=read-write
  std::string multiHost() {
    std::string hosts, ports;
    for (size_t i = 0; i < set_->size(); ++i) {
      hosts += (i ? "," : "") + std::string("127.0.0.1");
      ports += (i ? "," : "") + std::to_string(set_->port(i));
    }
    return "host=" + hosts + " port=" + ports +
           " user=postgres dbname=postgres connect_timeout=1 target_session_attrs=read-write";
  }

  size_t indexOf(const std::string& name) {
    for (size_t i = 0; i < set_->size(); ++i) {
      if (set_->name(i) == name) return i;
    }
    return 0;
  }

  bool inRecovery(size_t i) {
    auto rows = pgQuery(set_->conninfo(i), "select pg_is_in_recovery()");
    return !rows.empty() && !rows[0].empty() && rows[0][0] == "t";
  }
  // Application names streaming from member i.
  std::set<std::string> streamingFrom(size_t i) {
    std::set<std::string> out;
    for (const auto& row : pgQuery(set_->conninfo(i),
                                   "select application_name from pg_stat_replication where state = 'streaming'")) {
      if (!row.empty() && row[0].rfind("ERROR", 0) != 0) out.insert(row[0]);
    }
    return out;
  }
  std::set<int64_t> rowsOn(size_t i) {
    std::set<int64_t> out;
    for (const auto& row : pgQuery(set_->conninfo(i), "select n from writes")) {
      if (!row.empty() && row[0].rfind("ERROR", 0) != 0) out.insert(std::stoll(row[0]));
    }
    return out;
  }

  void TearDown() override {
    if (HasFailure() && cluster_) {
      std::cerr << failoverState(*cluster_, "postgres").dump(2) << "\n";
      for (const auto& [id, a] : cluster_->agents()) {
        std::cerr << id << " " << a.value("report", nlohmann::json()).value("attributes", nlohmann::json()).dump() << "\n";
      }
      for (const auto& d : decisionsOf(*cluster_, "postgres")) {
        std::cerr << d.value("action", "") << ": " << d.value("reason", "") << "\n";
      }
      // The lines that tell a failover's story, from every process's whole log.
      std::istringstream all(cluster_->logs(4000000));
      for (std::string line; std::getline(all, line);) {
        if (line.find("fenc") != std::string::npos || line.find("lease") != std::string::npos ||
            line.find("\"decision\"") != std::string::npos || line.rfind("---", 0) == 0 ||
            line.find("promot") != std::string::npos || line.find("\"error\"") != std::string::npos) {
          std::cerr << line.substr(0, 400) << "\n";
        }
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<PgReplicaSet> set_;
  std::unique_ptr<NoaCluster> cluster_;
  std::unique_ptr<TcpProxy> proxy_;
};

TEST_F(PgFailoverTest, PostmasterCrashPromotesAReplicaTheOtherFollowsAndTheOldPrimaryRejoins) {
  ASSERT_NO_FATAL_FAILURE(start());
  PgWriter writer(multiHost());
  writer.start();
  ASSERT_TRUE(waitUntil([&] { return writer.ackedCount() > 10; }, 10s));
  writer.mark(set_->port(0));
  const auto killed = Clock::now();
  ASSERT_EQ(::kill(postmasterPid(set_->dataDir(0)), SIGKILL), 0);
  std::string promoted;
  ASSERT_TRUE(waitUntil([&] {
    promoted = primaryOf(*cluster_, "postgres");
    return !promoted.empty() && promoted != "pg-1";
  }, 30s));
  ASSERT_TRUE(waitUntil([&] { return writer.firstAckAfterMark().has_value(); }, 20s))
      << "the multi-host client never wrote to the new primary";
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(*writer.firstAckAfterMark() - killed);
  std::cout << "[ figures ] postmaster kill -9 -> first acknowledged write on " << promoted << ": "
            << took.count() << " ms\n";
  const size_t p = indexOf(promoted);
  const size_t other = p == 1 ? 2 : 1;
  EXPECT_FALSE(inRecovery(p));
  ASSERT_TRUE(waitUntil([&] { return streamingFrom(p).count(set_->name(other)) > 0; }, 30s))
      << "the other replica does not follow the new primary";

  // The old primary comes back (someone restarts it): its agent fences it at once (it holds no
  // lease) and the controller makes it a replica of the new primary (pg_rewind as needed).
  // Its agent is alive, so the controller may have rejoined it already (then it runs).
  Status restarted = set_->member(0).start();
  ASSERT_TRUE(restarted.ok() || restarted.message().find("already running") != std::string::npos)
      << restarted.toString();
  ASSERT_TRUE(waitUntil([&] { return streamingFrom(p).count("pg-1") > 0; }, 60s))
      << "the old primary did not rejoin";
  EXPECT_TRUE(inRecovery(0));
  const size_t before = writer.ackedCount();
  ASSERT_TRUE(waitUntil([&] { return writer.ackedCount() > before + 5; }, 10s));
  writer.stop();
  // Every write acknowledged by the new primary reaches the rejoined member.
  const auto acked = writer.acked();
  ASSERT_TRUE(waitUntil([&] { return rowsOn(0).count(acked.back()) > 0; }, 10s));

  const json history = cluster_->getJson("/v1/services/postgres/history").value();
  ASSERT_GE(history["history"].size(), 2u);
  EXPECT_EQ(history["history"][0]["leader"], promoted);
  EXPECT_EQ(history["history"][0]["kind"], "automatic");
  EXPECT_EQ(history["history"][0]["previous"], "pg-1");
  EXPECT_TRUE(decided(*cluster_, "postgres", "promoted"));
  EXPECT_TRUE(decided(*cluster_, "postgres", "follow"));
  const CliRun cli = cluster_->noactl({"history", "postgres"});
  EXPECT_EQ(cli.code, 0) << cli.err;
  EXPECT_NE(cli.out.find(promoted), std::string::npos) << cli.out;
  const CliRun decisions = cluster_->noactl({"decisions", "--service", "postgres"});
  EXPECT_EQ(decisions.code, 0) << decisions.err;
  EXPECT_NE(decisions.out.find("promoted"), std::string::npos) << decisions.out;
}

TEST_F(PgFailoverTest, NodeLossPromotesOnlyAfterTheLease) {
  ASSERT_NO_FATAL_FAILURE(start());
  PgWriter writer(multiHost());
  writer.start();
  ASSERT_TRUE(waitUntil([&] { return writer.ackedCount() > 10; }, 10s));
  writer.mark(set_->port(0));
  const auto killed = Clock::now();
  cluster_->killAgent("pg-1");
  ASSERT_EQ(::kill(postmasterPid(set_->dataDir(0)), SIGKILL), 0);
  ASSERT_TRUE(waitUntil([&] { const std::string p = primaryOf(*cluster_, "postgres");
                              return !p.empty() && p != "pg-1"; }, 30s));
  ASSERT_TRUE(waitUntil([&] { return writer.firstAckAfterMark().has_value(); }, 20s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(*writer.firstAckAfterMark() - killed);
  std::cout << "[ figures ] node loss -> first acknowledged write: " << took.count() << " ms\n";
  // Its last report came at most one report interval (200 ms) before the kill: nobody may be
  // promoted before that report's lease (2 s) has run out.
  EXPECT_GE(took.count(), 1800);
  const json state = failoverState(*cluster_, "postgres");
  EXPECT_EQ(state["epoch"], 2);
}

TEST_F(PgFailoverTest, APartitionedPrimaryStopsTakingWritesBeforeAnotherIsPromoted) {
  ASSERT_NO_FATAL_FAILURE(start(false, "", /*proxy_for_primary=*/true));
  // One writer straight at the old primary, one through the multi-host string.
  PgWriter old_writer("host=127.0.0.1 port=" + std::to_string(set_->port(0)) +
                      " user=postgres dbname=postgres connect_timeout=1");
  old_writer.start();
  ASSERT_TRUE(waitUntil([&] { return old_writer.ackedCount() > 10; }, 10s));
  PgWriter writer(multiHost());
  writer.mark();
  proxy_->cut();
  ASSERT_TRUE(waitUntil([&] { const std::string p = primaryOf(*cluster_, "postgres");
                              return !p.empty() && p != "pg-1"; }, 30s));
  writer.start();
  writer.mark(set_->port(0));
  ASSERT_TRUE(waitUntil([&] { return writer.firstAckAfterMark().has_value(); }, 20s));
  old_writer.stop();
  ASSERT_TRUE(old_writer.lastAck().has_value());
  EXPECT_LT(*old_writer.lastAck(), *writer.firstAckAfterMark())
      << "the old primary accepted a write after the new one did: split brain";
  // The partition heals: the old primary, fenced, rejoins as a replica.
  proxy_->heal();
  const size_t p = indexOf(primaryOf(*cluster_, "postgres"));
  ASSERT_TRUE(waitUntil([&] { return streamingFrom(p).count("pg-1") > 0; }, 60s));
}

TEST_F(PgFailoverTest, SynchronousModeLosesNoAcknowledgedWrite) {
  ASSERT_NO_FATAL_FAILURE(start(/*synchronous=*/true, "services:\n  postgres:\n    failover:\n      synchronous: true\n"));
  PgWriter writer(multiHost(), 5ms);
  writer.start();
  ASSERT_TRUE(waitUntil([&] { return writer.ackedCount() > 50; }, 20s));
  writer.mark(set_->port(0));
  ASSERT_EQ(::kill(postmasterPid(set_->dataDir(0)), SIGKILL), 0);
  std::string promoted;
  ASSERT_TRUE(waitUntil([&] { promoted = primaryOf(*cluster_, "postgres");
                              return !promoted.empty() && promoted != "pg-1"; }, 30s));
  EXPECT_EQ(promoted, "pg-2") << "only the synchronous standby may be promoted";
  ASSERT_TRUE(waitUntil([&] { return writer.firstAckAfterMark().has_value(); }, 30s));
  writer.stop();
  const auto on_new = rowsOn(indexOf(promoted));
  size_t missing = 0;
  for (int64_t n : writer.acked()) missing += on_new.count(n) ? 0 : 1;
  std::cout << "[ figures ] synchronous mode: " << writer.acked().size()
            << " acknowledged writes, " << missing << " missing after failover\n";
  EXPECT_EQ(missing, 0u);
}

TEST_F(PgFailoverTest, ControllerRestartWithAHealthyClusterIsNoFailover) {
  ASSERT_NO_FATAL_FAILURE(start());
  cluster_->killController();
  ASSERT_TRUE(cluster_->startController().ok());
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(primaryOf(*cluster_, "postgres"), "pg-1");
  const json state = failoverState(*cluster_, "postgres");
  EXPECT_EQ(state["epoch"], 1);
  EXPECT_TRUE(state["transition"].is_null());
  EXPECT_FALSE(decided(*cluster_, "postgres", "start"));
  EXPECT_FALSE(inRecovery(0));
}

TEST_F(PgFailoverTest, SwitchoverPauseAndResumeThroughNoactl) {
  ASSERT_NO_FATAL_FAILURE(start());
  PgWriter writer(multiHost());
  writer.start();
  ASSERT_TRUE(waitUntil([&] { return writer.ackedCount() > 10; }, 10s));
  const CliRun sw = cluster_->noactl({"switchover", "postgres", "--to", "pg-3"});
  ASSERT_EQ(sw.code, 0) << sw.err;
  ASSERT_TRUE(waitUntil([&] { return primaryOf(*cluster_, "postgres") == "pg-3"; }, 30s));
  ASSERT_TRUE(waitUntil([&] { return streamingFrom(2).count("pg-1") > 0 &&
                                     streamingFrom(2).count("pg-2") > 0; }, 60s));
  writer.mark();
  ASSERT_TRUE(waitUntil([&] { return writer.firstAckAfterMark().has_value(); }, 10s));
  writer.stop();
  const auto on_new = rowsOn(2);
  for (int64_t n : writer.acked()) ASSERT_TRUE(on_new.count(n)) << "switchover lost write " << n;
  const json history = cluster_->getJson("/v1/services/postgres/history").value();
  EXPECT_EQ(history["history"][0]["kind"], "switchover");

  // Paused: a dead primary is left alone (and the decision says so) until resume.
  ASSERT_EQ(cluster_->noactl({"pause", "postgres", "--reason", "maintenance"}).code, 0);
  ASSERT_EQ(::kill(postmasterPid(set_->dataDir(2)), SIGKILL), 0);
  ASSERT_TRUE(waitUntil([&] {
    for (const auto& d : decisionsOf(*cluster_, "postgres")) {
      if (d.value("reason", "").find("paused") != std::string::npos) return true;
    }
    return false;
  }, 10s));
  EXPECT_EQ(failoverState(*cluster_, "postgres")["leader"], "pg-3");
  ASSERT_EQ(cluster_->noactl({"resume", "postgres"}).code, 0);
  ASSERT_TRUE(waitUntil([&] { const std::string p = primaryOf(*cluster_, "postgres");
                              return !p.empty() && p != "pg-3"; }, 30s));
  const CliRun status = cluster_->noactl({"failover-status", "postgres"});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("leader"), std::string::npos);
}

}  // namespace
}  // namespace noa::testing
