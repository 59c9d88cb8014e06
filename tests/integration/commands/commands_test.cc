// The command channel end to end: a real noa-controller, real noa-agent processes (security on),
// a real PostgreSQL 15 and the real noactl. Commands go out through REST, run on the agent, and
// their results come back exactly once even when the agent or the controller dies on the way.
// A backup is held "running" without timing games: the test locks a table the dump must read
// (pg_dump waits for the lock), then lets go when it wants the dump to finish.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <filesystem>

#include "tests/testing/harness/noa_cluster.h"
#include "tests/testing/servers/pg_server.h"
#include "tests/testing/servers/pg_sql.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

class CommandsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto pg = PgServer::start({});
    ASSERT_TRUE(pg.ok()) << pg.status().toString();
    pg_ = std::move(*pg).release();
    ASSERT_EQ(pgExec(pg_->connInfo(), "create database app"), "");
    ASSERT_EQ(pgExec(pg_->connInfo("app"),
                     "create table orders (id bigint primary key, note text);"
                     "insert into orders select g, md5(g::text) from generate_series(1, 20000) g;"),
              "");
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    auto cluster = NoaCluster::create(dir_.path(), {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN});
    ASSERT_TRUE(cluster.ok()) << cluster.status().toString();
    cluster_ = std::move(cluster).value();
    // Lost only after 10 s of silence, so an agent killed by a test is still a valid target.
    ASSERT_TRUE(cluster_->startController({"--lost-after", "50"}).ok());
    backups_ = dir_.path() + "/backups";
    fs::create_directories(backups_);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << cluster_->logs() << "\n";
    if (blocker_ != nullptr) PQfinish(blocker_);
  }

  void startPgAgent(const std::string& id = "pg-1") {
    ASSERT_TRUE(cluster_
                    ->startAgent(id, {"--service", "postgres", "--kind", "postgres",
                                      "--service-port", std::to_string(pg_->port()),
                                      "--pg-conninfo", pg_->connInfo("app"), "--backup-dir",
                                      backups_})
                    .ok());
    ASSERT_TRUE(cluster_->waitAlive(id)) << cluster_->logs();
  }

  // POST /v1/commands; the created record (or a null json with the failure in `why`).
  json create(const json& body, int expect_status = 201) {
    auto res = cluster_->post("/v1/commands", body);
    EXPECT_TRUE(res.ok()) << res.status().toString();
    if (!res.ok()) return nullptr;
    EXPECT_EQ(res->status, expect_status) << res->body;
    return json::parse(res->body, nullptr, false);
  }

  json command(const std::string& id) {
    auto got = cluster_->getJson("/v1/commands/" + id);
    return got.ok() ? *got : json(nullptr);
  }

  bool waitState(const std::string& id, const std::string& state,
                 std::chrono::milliseconds timeout = 30s) {
    return waitUntil([&] { return command(id).value("state", "") == state; }, timeout, 20ms);
  }

  // Holds an ACCESS EXCLUSIVE lock on `orders`, so a dump of `app` waits until release().
  void lockOrders() {
    blocker_ = PQconnectdb(pg_->connInfo("app").c_str());
    ASSERT_EQ(PQstatus(blocker_), CONNECTION_OK);
    PGresult* r = PQexec(blocker_, "begin; lock table orders in access exclusive mode");
    ASSERT_EQ(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
  }
  void releaseOrders() {
    PQclear(PQexec(blocker_, "rollback"));
    PQfinish(blocker_);
    blocker_ = nullptr;
  }
  // pg_dump is connected and waiting for the lock.
  bool dumpIsWaiting() {
    auto rows = pgQuery(pg_->connInfo(),
                        "select count(*) from pg_stat_activity where application_name = "
                        "'pg_dump' and wait_event_type = 'Lock'");
    return !rows.empty() && !rows[0].empty() && rows[0][0] == "1";
  }

  std::vector<std::string> filesIn(const std::string& dir, const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      if (name.size() >= suffix.size() && name.ends_with(suffix)) out.push_back(name);
    }
    return out;
  }

  static PgServer* pg_;
  TempDir dir_;
  std::unique_ptr<NoaCluster> cluster_;
  std::string backups_;
  PGconn* blocker_ = nullptr;
};

PgServer* CommandsTest::pg_ = nullptr;

TEST_F(CommandsTest, PingThroughNoactlWaitsForTheResult) {
  startPgAgent();
  CliRun run = cluster_->noactl({"run", "ping", "--agent", "pg-1", "--wait"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("succeeded"), std::string::npos) << run.out;

  auto list = cluster_->getJson("/v1/commands?service=postgres");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ((*list)["commands"].size(), 1u) << list->dump();
  const json& c = (*list)["commands"][0];
  EXPECT_EQ(c["state"], "succeeded");
  EXPECT_EQ(c["attempts"], 1);
  std::vector<std::string> states;
  for (const auto& h : c["history"]) states.push_back(h["state"]);
  EXPECT_EQ(states, (std::vector<std::string>{"pending", "sent", "acked", "running", "succeeded"}))
      << c.dump();
  auto audit = cluster_->getJson("/v1/audit", "admin");
  ASSERT_TRUE(audit.ok());
  EXPECT_NE(audit->dump().find("/v1/commands"), std::string::npos) << "creation is audited";
}

TEST_F(CommandsTest, BadRequestsAreRefusedAndNothingRuns) {
  startPgAgent();
  // Not among the agent's actions: refused at creation, never stored.
  json refused = create({{"action", "shell.exec"}, {"agent_id", "pg-1"}}, 400);
  EXPECT_NE(refused.dump().find("ping"), std::string::npos) << "lists what it can run";
  create({{"action", "ping"}, {"agent_id", "nobody"}}, 404);
  // Wrong params are the agent's strict parser's call: the command fails, nothing runs.
  json bad = create({{"action", "backup.pg_dump"}, {"agent_id", "pg-1"},
                     {"params", {{"compression", 7}}}});
  ASSERT_TRUE(waitState(bad["id"], "failed")) << command(bad["id"]).dump();
  json done = command(bad["id"]);
  EXPECT_EQ(done["result"]["error_code"], "invalid_params") << done.dump();
  EXPECT_TRUE(filesIn(backups_, ".dump").empty());
}

TEST_F(CommandsTest, BackupRunsOnTheServicePrimaryWithAgentDefaults) {
  startPgAgent();
  // The report says primary within an interval or two.
  ASSERT_TRUE(waitUntil([&] { return cluster_->agents()["pg-1"].dump().find("primary") !=
                                     std::string::npos; },
                        10s));
  CliRun run = cluster_->noactl({"run", "backup.pg_dump", "--service", "postgres", "--role",
                                 "primary", "--param", "dbname=app", "--wait", "--output", "json"});
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  json record = json::parse(run.out, nullptr, false);
  ASSERT_FALSE(record.is_discarded()) << run.out;
  EXPECT_EQ(record["state"], "succeeded");
  EXPECT_EQ(record["agent_id"], "pg-1");
  const json& out = record["result"]["output"];
  const std::string path = out.value("artifact_path", "");
  ASSERT_FALSE(path.empty()) << record.dump();
  EXPECT_EQ(fs::path(path).parent_path(), fs::path(backups_)) << "the agent's --backup-dir";
  EXPECT_TRUE(fs::exists(path));
  EXPECT_EQ(out.value("sha256", "").size(), 64u) << record.dump();
}

TEST_F(CommandsTest, CommandQueuedWhileTheAgentIsDownRunsWhenItReturns) {
  startPgAgent();
  cluster_->killAgent("pg-1");
  json c = create({{"action", "ping"}, {"agent_id", "pg-1"}});
  ASSERT_FALSE(c.is_null());
  std::this_thread::sleep_for(1s);
  EXPECT_NE(command(c["id"])["state"], "succeeded");
  startPgAgent();
  ASSERT_TRUE(waitState(c["id"], "succeeded")) << command(c["id"]).dump();
}

TEST_F(CommandsTest, ResultProducedWhileTheControllerIsDeadIsRecordedAfterItsRestart) {
  startPgAgent();
  lockOrders();
  json c = create({{"action", "backup.pg_dump"}, {"agent_id", "pg-1"}, {"params", {{"dbname", "app"}}}});
  ASSERT_TRUE(waitState(c["id"], "running")) << command(c["id"]).dump();
  ASSERT_TRUE(waitUntil([&] { return dumpIsWaiting(); }, 10s));
  cluster_->killController();
  releaseOrders();
  // The dump ends while nobody listens: its result waits in the agent's spool.
  const std::string spool = cluster_->agentStateDir("pg-1") + "/commands/spool";
  ASSERT_TRUE(waitUntil([&] { return fs::exists(spool) && !fs::is_empty(spool); }, 30s));
  ASSERT_TRUE(cluster_->startController({"--lost-after", "50"}).ok());
  ASSERT_TRUE(waitState(c["id"], "succeeded")) << command(c["id"]).dump();
  json done = command(c["id"]);
  EXPECT_EQ(done["result"]["output"].value("sha256", "").size(), 64u) << done.dump();
  // Acknowledged: the agent forgets it, and it is applied once.
  EXPECT_TRUE(waitUntil([&] { return fs::is_empty(spool); }, 10s));
  size_t finished = 0;
  for (const auto& h : done["history"]) finished += h["state"] == "succeeded";
  EXPECT_EQ(finished, 1u) << done.dump();
  EXPECT_EQ(filesIn(backups_, ".dump").size(), 1u);
}

TEST_F(CommandsTest, AgentKilledMidBackupEndsFailedWithoutAHalfArtifact) {
  startPgAgent();
  lockOrders();
  json c = create({{"action", "backup.pg_dump"}, {"agent_id", "pg-1"}, {"params", {{"dbname", "app"}}}});
  ASSERT_TRUE(waitState(c["id"], "running")) << command(c["id"]).dump();
  ASSERT_TRUE(waitUntil([&] { return dumpIsWaiting(); }, 10s));
  cluster_->killAgent("pg-1");
  releaseOrders();
  startPgAgent();
  ASSERT_TRUE(waitState(c["id"], "failed")) << command(c["id"]).dump();
  EXPECT_EQ(command(c["id"])["result"]["error_code"], "agent_restarted");
  EXPECT_TRUE(waitUntil([&] { return filesIn(backups_, ".partial").empty(); }, 10s))
      << "the restarted agent clears what its predecessor left";
  EXPECT_TRUE(filesIn(backups_, ".dump").empty());
}

TEST_F(CommandsTest, CancelKillsTheDumpAndRemovesItsPartial) {
  startPgAgent();
  lockOrders();
  json c = create({{"action", "backup.pg_dump"}, {"agent_id", "pg-1"}, {"params", {{"dbname", "app"}}}});
  ASSERT_TRUE(waitState(c["id"], "running")) << command(c["id"]).dump();
  ASSERT_TRUE(waitUntil([&] { return dumpIsWaiting(); }, 10s));
  CliRun run = cluster_->noactl({"cancel", c["id"].get<std::string>()});
  EXPECT_EQ(run.code, 0) << run.out << run.err;
  ASSERT_TRUE(waitState(c["id"], "cancelled")) << command(c["id"]).dump();
  EXPECT_TRUE(waitUntil([&] { return !dumpIsWaiting(); }, 10s)) << "pg_dump was killed";
  releaseOrders();
  EXPECT_TRUE(filesIn(backups_, ".partial").empty());
  EXPECT_TRUE(filesIn(backups_, ".dump").empty());
}

TEST_F(CommandsTest, DeadlineEndsABlockedBackupAsTimedOut) {
  startPgAgent();
  lockOrders();
  json c = create({{"action", "backup.pg_dump"},
                   {"agent_id", "pg-1"},
                   {"params", {{"dbname", "app"}}},
                   {"timeout", "2s"}});
  ASSERT_TRUE(waitState(c["id"], "timed_out", 40s)) << command(c["id"]).dump();
  releaseOrders();
  EXPECT_TRUE(filesIn(backups_, ".partial").empty());
}

}  // namespace
}  // namespace noa::testing
