// The FailoverCoordinator over a real CommandBook, DecisionLog and RocksDB (temporary dir) on a
// fake clock. Members are agent records as their reports describe them; the agents' side of
// each command is played by applying its result to the book, as the ingest thread would.

#include "controller/failover/failover_coordinator.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/failover/failover_test_util.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::failover {
namespace {

using commands::CommandRecord;
using commands::CommandState;
using nlohmann::json;
using testing::MemberSpec;
using std::chrono::milliseconds;

class FailoverCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open({dir_.path()});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto book = commands::CommandBook::open(*store_, clock_);
    ASSERT_OK(book);
    book_ = std::move(book).value();
    auto log = decisions::DecisionLog::open(*store_, clock_);
    ASSERT_OK(log);
    log_ = std::move(log).value();
    members_ = {
        {.id = "pg-1", .role = "primary", .position = "0/5000000", .port = 5001,
         .replica_names = "pg-2,pg-3"},
        {.id = "pg-2", .position = "0/4F00000", .port = 5002},
        {.id = "pg-3", .position = "0/5000000", .port = 5003},
    };
    restart();
  }

  // A new controller process over the same store (leases are in memory: a new table).
  void restart(const std::string& policy_yaml = "") {
    coordinator_.reset();
    leases_ = std::make_unique<LeaseTable>();
    FailoverPolicies policies;
    if (!policy_yaml.empty()) {
      auto parsed = parseFailoverPolicies(policy_yaml);
      ASSERT_OK(parsed);
      policies = *parsed;
    }
    coordinator_ = std::make_unique<FailoverCoordinator>(
        *store_, *book_, *leases_, *log_,
        [this] {
          std::vector<AgentRecord> out;
          for (const auto& m : members_) out.push_back(testing::memberRecord(m, nowMs()));
          return out;
        },
        policies, clock_);
    ASSERT_OK(coordinator_->start());
  }

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }
  MemberSpec& member(const std::string& id) {
    for (auto& m : members_) {
      if (m.id == id) return m;
    }
    ADD_FAILURE() << "no member " << id;
    return members_.front();
  }

  std::vector<CommandRecord> commands(const std::string& action, const std::string& agent = "") {
    std::vector<CommandRecord> out;
    for (auto& c : book_->list({})) {
      if (c.action == action && (agent.empty() || c.agent_id == agent)) out.push_back(c);
    }
    return out;
  }
  // The one unfinished command `action` to `agent`.
  CommandRecord pending(const std::string& action, const std::string& agent) {
    for (auto& c : commands(action, agent)) {
      if (!commands::isTerminal(c.state)) return c;
    }
    ADD_FAILURE() << "no unfinished " << action << " for " << agent;
    return {};
  }
  void finish(const CommandRecord& c, const std::string& status, json output = json::object()) {
    ASSERT_OK(book_->claimDeliveries(c.agent_id));
    protocol::CommandResult r;
    r.command_id = c.id;
    r.status = status;
    if (status != "succeeded") {
      r.error_code = "tool_failed";
      r.error = "it went wrong";
    }
    r.output_json = output.dump();
    ASSERT_OK(book_->applyResult(c.agent_id, r));
  }
  // The ingest thread's part: a report (or result) from `agent` renews its lease if it holds it.
  std::optional<LeaseGrant> report(const std::string& agent) {
    return leases_->renew("postgres", agent, clock_.now());
  }
  LeaderRecord record() {
    auto v = coordinator_->view("postgres");
    EXPECT_TRUE(v.ok());
    return v.ok() ? v->record : LeaderRecord{};
  }
  std::vector<decisions::DecisionRecord> decisions() {
    auto list = log_->list({});
    EXPECT_TRUE(list.ok());
    return list.ok() ? *list : std::vector<decisions::DecisionRecord>{};
  }
  bool decided(const std::string& action, const std::string& reason_part) {
    for (const auto& d : decisions()) {
      if (d.action == action && d.reason.find(reason_part) != std::string::npos) return true;
    }
    return false;
  }
  // Bootstrap, then the leader's report renews its lease.
  void bootstrap() {
    coordinator_->tick();
    ASSERT_EQ(record().leader, "pg-1");
    ASSERT_TRUE(report("pg-1"));
  }
  // Runs the promotion steps for whichever candidate is armed: its ping's result renews its
  // lease, then its promote succeeds.
  std::string promoteArmedCandidate() {
    coordinator_->tick();
    const LeaderRecord r = record();
    EXPECT_TRUE(r.transition && r.transition->candidate_armed);
    if (!r.transition) return "";
    const std::string candidate = r.transition->candidate;
    EXPECT_TRUE(report(candidate));
    coordinator_->tick();
    finish(pending("pg.promote", candidate), "succeeded", {{"lsn", "0/5000100"}, {"timeline", "2"}});
    coordinator_->tick();
    return candidate;
  }

  noa::controller::testing::TempDir dir_;
  ::noa::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<commands::CommandBook> book_;
  std::unique_ptr<decisions::DecisionLog> log_;
  std::unique_ptr<LeaseTable> leases_;
  std::unique_ptr<FailoverCoordinator> coordinator_;
  std::vector<MemberSpec> members_;
};

TEST_F(FailoverCoordinatorTest, TheOnlyPrimaryBecomesLeaderAndItsReportsRenewTheLease) {
  coordinator_->tick();
  const LeaderRecord r = record();
  EXPECT_EQ(r.leader, "pg-1");
  EXPECT_EQ(r.epoch, 1u);
  ASSERT_EQ(r.history.size(), 1u);
  EXPECT_EQ(r.history[0].kind, "bootstrap");
  auto grant = report("pg-1");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->lease_ms, 2000u);
  EXPECT_EQ(grant->epoch, 1u);
  EXPECT_FALSE(report("pg-2")) << "only the holder gets a lease";
  EXPECT_TRUE(decided("bootstrap", "pg-1 leads"));
}

TEST_F(FailoverCoordinatorTest, TwoPrimariesAndNoRecordIsLeftToTheOperator) {
  member("pg-2").role = "primary";
  coordinator_->tick();
  EXPECT_EQ(record().leader, "");
  EXPECT_TRUE(decided("hold", "2 members report primary"));
}

TEST_F(FailoverCoordinatorTest, PostmasterCrashWithAgentAliveFencesThenPromotesTheMostAdvanced) {
  bootstrap();
  member("pg-1").exited = true;
  member("pg-1").role = "";
  coordinator_->tick();
  LeaderRecord r = record();
  ASSERT_TRUE(r.transition);
  EXPECT_EQ(r.transition->phase, Phase::kFence);
  EXPECT_FALSE(report("pg-1")) << "renewals stop when a failover starts";
  // No promotion before the old primary confirmed its fence (its lease is still running).
  coordinator_->tick();
  EXPECT_TRUE(commands("pg.promote").empty());
  EXPECT_TRUE(commands("ping").empty());
  finish(pending("fence", "pg-1"), "succeeded", {{"fenced", true}});
  const std::string promoted = promoteArmedCandidate();
  EXPECT_EQ(promoted, "pg-3") << "pg-3 is further ahead than pg-2";
  r = record();
  EXPECT_EQ(r.leader, "pg-3");
  EXPECT_EQ(r.epoch, 2u);
  EXPECT_FALSE(r.transition);
  ASSERT_EQ(r.history.size(), 2u);
  EXPECT_EQ(r.history[1].kind, "automatic");
  EXPECT_EQ(r.history[1].previous, "pg-1");
  EXPECT_EQ(r.history[1].position, "0/5000100");
  auto grant = report("pg-3");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->epoch, 2u);
  EXPECT_TRUE(decided("promoted", "pg-3 is primary in epoch 2"));
}

TEST_F(FailoverCoordinatorTest, OtherReplicasAndTheReturningOldPrimaryFollowTheNewLeader) {
  bootstrap();
  member("pg-1").exited = true;
  member("pg-1").role = "";
  coordinator_->tick();
  finish(pending("fence", "pg-1"), "succeeded");
  ASSERT_EQ(promoteArmedCandidate(), "pg-3");
  member("pg-3").role = "primary";
  member("pg-3").replica_names = "";
  member("pg-1").fenced = "controller";
  coordinator_->tick();
  const CommandRecord follow2 = pending("pg.follow", "pg-2");
  EXPECT_EQ(follow2.params["primary_port"], 5003);
  EXPECT_EQ(follow2.params["application_name"], "pg-2");
  const CommandRecord follow1 = pending("pg.follow", "pg-1");
  EXPECT_EQ(follow1.params["primary_host"], "127.0.0.1");
  // No second follow while one runs, and none once they replicate from pg-3.
  coordinator_->tick();
  EXPECT_EQ(commands("pg.follow", "pg-2").size(), 1u);
  finish(follow2, "succeeded");
  finish(follow1, "succeeded");
  member("pg-3").replica_names = "pg-1,pg-2";
  member("pg-1").fenced = "";
  member("pg-1").exited = false;
  member("pg-1").role = "replica";
  clock_.advance(milliseconds(10000));
  report("pg-3");
  coordinator_->tick();
  EXPECT_EQ(commands("pg.follow").size(), 2u);
}

TEST_F(FailoverCoordinatorTest, SilentNodeIsPromotedOnlyAfterTheLeaseAndMargin) {
  bootstrap();
  member("pg-1").reachable = false;
  clock_.advance(milliseconds(2000));
  coordinator_->tick();
  EXPECT_FALSE(record().transition) << "the lease (2 s) has run out, the margin (300 ms) not";
  clock_.advance(milliseconds(301));
  coordinator_->tick();
  const LeaderRecord r = record();
  ASSERT_TRUE(r.transition);
  EXPECT_EQ(r.transition->phase, Phase::kPromote) << "nothing to fence: the lease is over";
  EXPECT_TRUE(commands("fence").empty());
  EXPECT_EQ(r.transition->candidate, "pg-3");
  ASSERT_EQ(promoteArmedCandidate(), "pg-3");
  EXPECT_EQ(record().leader, "pg-3");
}

TEST_F(FailoverCoordinatorTest, ControllerRestartWithAHealthyClusterIsNoFailover) {
  bootstrap();
  restart();
  // The new controller has heard nothing yet: the leader counts as silent, but its lease is
  // counted from the restart.
  member("pg-1").reachable = false;
  clock_.advance(milliseconds(1500));
  coordinator_->tick();
  member("pg-1").reachable = true;
  ASSERT_TRUE(report("pg-1"));
  clock_.advance(milliseconds(1500));
  coordinator_->tick();
  EXPECT_FALSE(record().transition);
  EXPECT_EQ(record().epoch, 1u);
}

TEST_F(FailoverCoordinatorTest, ALeaderThatFencedItselfForWantOfALeaseIsNotFailedOver) {
  bootstrap();
  member("pg-1").fenced = "no_lease";
  member("pg-1").role = "";
  member("pg-1").exited = true;
  coordinator_->tick();
  EXPECT_FALSE(record().transition);
  EXPECT_TRUE(report("pg-1")) << "its lease is renewed, so it unfences itself";
  EXPECT_TRUE(decided("hold", "fenced itself"));
}

TEST_F(FailoverCoordinatorTest, AReplicaTooFarBehindIsNotPromotedAndTheDecisionSaysWhy) {
  members_ = {
      {.id = "pg-1", .role = "primary", .position = "0/50000000", .replica_names = "pg-2"},
      {.id = "pg-2", .position = "0/10000000"},
  };
  bootstrap();
  member("pg-1").exited = true;
  coordinator_->tick();
  finish(pending("fence", "pg-1"), "succeeded");
  coordinator_->tick();
  EXPECT_TRUE(commands("ping").empty());
  EXPECT_TRUE(decided("hold", "pg-2 lag 1073741824 bytes > maximum_lag 1048576"));
  EXPECT_EQ(record().leader, "pg-1");
}

TEST_F(FailoverCoordinatorTest, NofailoverAndPriorityAreRespected) {
  restart("services:\n  postgres:\n    failover:\n      nofailover: [pg-3]\n");
  bootstrap();
  member("pg-1").exited = true;
  coordinator_->tick();
  finish(pending("fence", "pg-1"), "succeeded");
  EXPECT_EQ(promoteArmedCandidate(), "pg-2");
}

TEST_F(FailoverCoordinatorTest, AFailedPromotionMovesOnToTheNextCandidateAfterItsLease) {
  bootstrap();
  member("pg-1").exited = true;
  coordinator_->tick();
  finish(pending("fence", "pg-1"), "succeeded");
  coordinator_->tick();
  ASSERT_TRUE(report("pg-3"));
  coordinator_->tick();
  finish(pending("pg.promote", "pg-3"), "failed");
  coordinator_->tick();
  EXPECT_TRUE(decided("promote_failed", "promotion of pg-3 failed"));
  EXPECT_FALSE(report("pg-3"));
  coordinator_->tick();
  EXPECT_TRUE(commands("ping", "pg-2").empty()) << "pg-3 may still turn primary: wait out its lease";
  clock_.advance(milliseconds(2301));
  EXPECT_EQ(promoteArmedCandidate(), "pg-2");
  EXPECT_EQ(record().leader, "pg-2");
  EXPECT_EQ(record().epoch, 2u);
}

TEST_F(FailoverCoordinatorTest, ARestartedControllerFinishesAFailoverFromTheStoredState) {
  bootstrap();
  member("pg-1").exited = true;
  coordinator_->tick();
  finish(pending("fence", "pg-1"), "succeeded");
  coordinator_->tick();  // candidate armed and stored
  ASSERT_TRUE(record().transition->candidate_armed);
  restart();
  ASSERT_TRUE(record().transition) << "the transition survives the restart";
  EXPECT_TRUE(report("pg-3")) << "the armed candidate holds the lease again";
  coordinator_->tick();
  finish(pending("pg.promote", "pg-3"), "succeeded", {{"lsn", "0/5000100"}});
  coordinator_->tick();
  EXPECT_EQ(record().leader, "pg-3");
  EXPECT_EQ(record().epoch, 2u);
}

TEST_F(FailoverCoordinatorTest, ASecondPrimaryWithoutTheLeaseIsFenced) {
  bootstrap();
  member("pg-2").role = "primary";
  coordinator_->tick();
  const CommandRecord fence = pending("fence", "pg-2");
  EXPECT_TRUE(decided("fence", "pg-2 reports primary without the lease"));
  EXPECT_EQ(record().leader, "pg-1");
  (void)fence;
}

TEST_F(FailoverCoordinatorTest, PausedMeansNoAutomaticFailover) {
  bootstrap();
  ASSERT_OK(coordinator_->setPaused("postgres", true, "upgrade", "alice"));
  member("pg-1").exited = true;
  coordinator_->tick();
  EXPECT_FALSE(record().transition);
  EXPECT_TRUE(decided("hold", "paused"));
  ASSERT_OK(coordinator_->setPaused("postgres", false, "", "alice"));
  coordinator_->tick();
  EXPECT_TRUE(record().transition);
}

TEST_F(FailoverCoordinatorTest, SynchronousModePromotesOnlyTheSynchronousStandby) {
  restart("services:\n  postgres:\n    failover:\n      synchronous: true\n");
  member("pg-1").sync_standbys = "pg-2";
  bootstrap();
  member("pg-1").exited = true;
  coordinator_->tick();
  finish(pending("fence", "pg-1"), "succeeded");
  EXPECT_EQ(promoteArmedCandidate(), "pg-2") << "pg-3 is further ahead but not synchronous";
}

TEST_F(FailoverCoordinatorTest, SwitchoverWaitsForTheCandidateToReachTheFencedPosition) {
  bootstrap();
  auto started = coordinator_->switchover("postgres", "pg-2", "alice");
  ASSERT_OK(started);
  finish(pending("fence", "pg-1"), "succeeded", {{"position", "0/5000000"}});
  coordinator_->tick();
  ASSERT_EQ(record().transition->phase, Phase::kCatchup);
  coordinator_->tick();
  EXPECT_TRUE(commands("ping").empty()) << "pg-2 is at 0/4F00000, behind the leader";
  member("pg-2").position = "0/5000000";
  coordinator_->tick();
  EXPECT_EQ(promoteArmedCandidate(), "pg-2");
  EXPECT_EQ(record().history.back().kind, "switchover");
}

TEST_F(FailoverCoordinatorTest, ASwitchoverWhoseCandidateDoesNotCatchUpIsRolledBack) {
  bootstrap();
  ASSERT_OK(coordinator_->switchover("postgres", "pg-2", "alice"));
  finish(pending("fence", "pg-1"), "succeeded", {{"position", "0/6000000"}});
  member("pg-1").fenced = "controller";
  coordinator_->tick();
  clock_.advance(milliseconds(30001));
  coordinator_->tick();
  EXPECT_FALSE(record().transition);
  EXPECT_EQ(record().leader, "pg-1");
  EXPECT_TRUE(decided("abort", "did not reach 0/6000000"));
  coordinator_->tick();
  pending("unfence", "pg-1");
  EXPECT_TRUE(report("pg-1")) << "its lease is renewed again";
}

TEST_F(FailoverCoordinatorTest, OperatorRequestsAreRefusedWithReasons) {
  bootstrap();
  EXPECT_EQ(coordinator_->switchover("nosuch", "", "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(coordinator_->forceFailover("postgres", "", "a").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(coordinator_->forceFailover("postgres", "pg-9", "a").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_OK(coordinator_->switchover("postgres", "", "a"));
  auto again = coordinator_->switchover("postgres", "", "a");
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(FailoverCoordinatorTest, ForcedFailoverPromotesTheNamedMemberDespiteLag) {
  members_[1].position = "0/1000000";  // pg-2 far behind
  bootstrap();
  member("pg-1").reachable = false;
  ASSERT_OK(coordinator_->forceFailover("postgres", "pg-2", "alice"));
  clock_.advance(milliseconds(2301));
  coordinator_->tick();
  EXPECT_EQ(promoteArmedCandidate(), "pg-2");
  EXPECT_EQ(record().history.back().kind, "forced");
}

TEST_F(FailoverCoordinatorTest, RedisReplicasFollowByEndpoint) {
  members_ = {
      {.id = "r-1", .role = "primary", .position = "1000", .kind = "redis", .service = "postgres", .port = 6001},
      {.id = "r-2", .position = "1000", .kind = "redis", .service = "postgres", .port = 6002, .upstream_port = "6001"},
  };

  coordinator_->tick();
  ASSERT_EQ(record().leader, "r-1");
  ASSERT_TRUE(report("r-1"));
  member("r-1").exited = true;
  member("r-1").role = "";
  coordinator_->tick();
  finish(pending("fence", "r-1"), "succeeded");
  coordinator_->tick();
  ASSERT_TRUE(report("r-2"));
  coordinator_->tick();
  finish(pending("redis.promote", "r-2"), "succeeded", {{"master_repl_offset", 1000}});
  coordinator_->tick();
  EXPECT_EQ(record().leader, "r-2");
  member("r-2").role = "primary";
  member("r-1") = {.id = "r-1", .role = "primary", .position = "0", .fenced = "no_lease",
                   .kind = "redis", .service = "postgres", .port = 6001};
  coordinator_->tick();
  const CommandRecord follow = pending("redis.follow", "r-1");
  EXPECT_EQ(follow.params["primary_port"], 6002);
}

}  // namespace
}  // namespace noa::controller::failover
