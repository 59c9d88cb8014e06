// The AutoscaleCoordinator over a real store (RocksDB in a temporary directory), a fake
// actuator and a FakeClock: actuation, decision records, dry run, failures with back-off,
// overrides and pauses that survive a restart.

#include "controller/autoscale/autoscale_coordinator.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::autoscale {
namespace {

struct FakeTarget {
  int32_t replicas = 2;
  std::vector<int32_t> sets;
  Status fail = Status::Ok();
};

class FakeActuator final : public Actuator {
 public:
  explicit FakeActuator(FakeTarget& t) : t_(t) {}
  ActuatorType type() const override { return ActuatorType::kExec; }
  Result<int32_t> currentReplicas(const std::string&) override { return t_.replicas; }
  Status setReplicas(const std::string&, int32_t n) override {
    t_.sets.push_back(n);
    if (!t_.fail.ok()) return t_.fail;
    t_.replicas = n;
    return Status::Ok();
  }

 private:
  FakeTarget& t_;
};

class AutoscaleCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open({dir_.path()});
    ASSERT_OK(store.status());
    store_ = std::move(store).value();
    policy_.service = "web";
    policy_.min_replicas = 1;
    policy_.max_replicas = 10;
    policy_.metrics = {
        {MetricSourceType::kResource, "cpu", MetricTargetType::kUtilization, 50, ""}};
  }

  std::unique_ptr<AutoscaleCoordinator> make(AutoscaleCoordinatorOptions options = {}) {
    AutoscalePolicies policies;
    policies.services = {policy_};
    auto c = std::make_unique<AutoscaleCoordinator>(
        policies,
        [this](const std::set<std::string>& services) {
          asked_for_.push_back(services);
          return agents();
        },
        *store_,
        [this](decisions::DecisionRecord r) {
          records_.push_back(std::move(r));
          return Status::Ok();
        },
        clock_, &metrics_,
        [this](const ActuatorConfig&) -> Result<ActuatorPtr> {
          return ActuatorPtr(std::make_unique<FakeActuator>(target_));
        },
        options);
    EXPECT_OK(c->start());
    return c;
  }

  std::vector<std::set<std::string>> asked_for_;  // what each tick asked the registry for

  // target_.replicas agents of "web", each at `cpu_` of a 1-core limit.
  std::vector<AgentRecord> agents() const {
    std::vector<AgentRecord> out;
    const int64_t now = toUnixMillis(clock_.wallNow());
    for (int i = 0; i < target_.replicas; ++i) {
      AgentRecord a;
      a.hello.agent_id = "web-" + std::to_string(i);
      a.hello.service = "web";
      a.session_started_ms = now - 3'600'000;
      a.last_seen_ms = now;
      a.has_report = true;
      a.last_report.health.state = "healthy";
      a.last_report.health.ready = true;
      a.last_report.metrics = {{"cpu_usage_cores", cpu_}, {"cpu_limit_cores", 1.0}};
      out.push_back(a);
    }
    return out;
  }

  void advance(int seconds) { clock_.advance(std::chrono::seconds(seconds)); }

  noa::controller::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
  prometheus::Registry registry_;
  AutoscaleMetrics metrics_{registry_};
  AutoscalePolicy policy_;
  FakeTarget target_;
  double cpu_ = 0.5;
  std::vector<decisions::DecisionRecord> records_;
};

TEST_F(AutoscaleCoordinatorTest, ActsOnACrossingAtTheNextTickAndRecordsIt) {
  auto c = make();
  c->tick();
  EXPECT_TRUE(target_.sets.empty());  // 50 % = target
  EXPECT_EQ(metrics_.ableToScaleForTest("web"), 1) << "holding is no inability to scale";
  cpu_ = 0.9;                         // the next report crosses the target
  advance(1);
  c->tick();
  ASSERT_EQ(target_.sets, std::vector<int32_t>{4});  // ceil(1.8 x 2)
  ASSERT_FALSE(records_.empty());
  const auto& r = records_.back();
  EXPECT_EQ(r.kind, "autoscale");
  EXPECT_EQ(r.action, "scale_up");
  EXPECT_EQ(r.outcome["actuated"], true);
  EXPECT_EQ(r.outcome["conditions"]["AbleToScale"]["reason"], "SucceededRescale");
  EXPECT_EQ(r.outcome["proposals"][0]["current"], 90);
  EXPECT_EQ(metrics_.desiredForTest("web"), 4);
  EXPECT_EQ(metrics_.decisionsForTest("web", "scale_up"), 1);
  EXPECT_EQ(metrics_.ableToScaleForTest("web"), 1);
  auto d = c->describe("web");
  ASSERT_OK(d.status());
  EXPECT_EQ((*d)["desired_replicas"], 4);
  EXPECT_EQ((*d)["mode"], "auto");
}

TEST_F(AutoscaleCoordinatorTest, ATickCopiesOnlyTheRecordsOfServicesItEvaluates) {
  auto c = make();
  c->tick(clock_.now());
  ASSERT_EQ(asked_for_.size(), 1u);
  EXPECT_EQ(asked_for_[0], (std::set<std::string>{"web"})) << "not the whole fleet";
  policy_.enabled = false;
  asked_for_.clear();
  auto disabled = make();
  disabled->tick(clock_.now());
  EXPECT_TRUE(asked_for_.empty()) << "nothing to evaluate, nothing copied";
}

TEST_F(AutoscaleCoordinatorTest, DryRunDecidesAndRecordsButDoesNotActuateOrRepeat) {
  policy_.dry_run = true;
  cpu_ = 0.9;
  auto c = make();
  for (int i = 0; i < 30; ++i) {
    c->tick();
    advance(1);
  }
  EXPECT_TRUE(target_.sets.empty());
  ASSERT_EQ(records_.size(), 1u);  // the same evaluation is not stored once a second
  EXPECT_EQ(records_[0].action, "scale_up");
  EXPECT_EQ(records_[0].inputs["mode"], "dry_run");
  EXPECT_EQ(records_[0].outcome["actuated"], false);
  advance(60);
  c->tick();
  EXPECT_EQ(records_.size(), 2u);  // but once a minute, so the log shows it still holds
}

TEST_F(AutoscaleCoordinatorTest, ActuatorFailureIsRecordedAndRetriedWithBackoff) {
  cpu_ = 0.9;
  target_.fail = Status::Unavailable("PATCH ...: HTTP 503");
  AutoscaleCoordinatorOptions options;
  options.retry_initial_ms = 4000;
  auto c = make(options);
  c->tick();
  ASSERT_EQ(target_.sets.size(), 1u);
  ASSERT_EQ(records_.size(), 1u);
  EXPECT_EQ(records_[0].action, "error");
  EXPECT_NE(records_[0].reason.find("HTTP 503"), std::string::npos) << records_[0].reason;
  EXPECT_EQ(records_[0].outcome["conditions"]["AbleToScale"]["status"], "False");
  EXPECT_EQ(records_[0].outcome["conditions"]["AbleToScale"]["reason"], "FailedUpdateScale");
  EXPECT_EQ(metrics_.ableToScaleForTest("web"), 0);
  advance(2);
  c->tick();
  EXPECT_EQ(target_.sets.size(), 1u);  // backing off
  EXPECT_EQ(metrics_.ableToScaleForTest("web"), 0) << "still unable while backing off";
  EXPECT_EQ((*c->describe("web"))["conditions"]["AbleToScale"]["status"], "False");
  advance(3);
  c->tick();
  EXPECT_EQ(target_.sets.size(), 2u);  // 4 s later: retried, failed again (next in 8 s)
  target_.fail = Status::Ok();
  advance(5);
  c->tick();
  EXPECT_EQ(target_.sets.size(), 2u);
  advance(4);
  c->tick();
  EXPECT_EQ(target_.sets.size(), 3u);
  EXPECT_EQ(target_.replicas, 4);
  EXPECT_EQ(records_.back().outcome["conditions"]["AbleToScale"]["reason"], "SucceededRescale");
  EXPECT_EQ(metrics_.ableToScaleForTest("web"), 1) << "able again once the actuator succeeds";
}

TEST_F(AutoscaleCoordinatorTest, OverrideIsActuatedSurvivesARestartAndExpires) {
  auto c = make();
  auto o = c->setOverride("web", 6, 600'000, "alice");
  ASSERT_OK(o.status());
  EXPECT_EQ(c->setOverride("web", 11, 0, "alice").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c->setOverride("nope", 1, 0, "alice").status().code(), StatusCode::kNotFound);
  c->tick();
  EXPECT_EQ(target_.sets, std::vector<int32_t>{6});
  EXPECT_NE(records_.back().reason.find("manual override to 6 by alice"), std::string::npos);

  c.reset();
  auto again = make();  // a restarted controller
  EXPECT_EQ((*again->describe("web"))["mode"], "override");
  advance(30);
  again->tick();
  EXPECT_EQ(target_.sets, std::vector<int32_t>{6});  // still pinned; 50 % load holds anyway
  advance(600);
  cpu_ = 0.1;  // the override is gone, and so is every recommendation of the last 300 s
  again->tick();
  EXPECT_EQ((*again->describe("web"))["mode"], "auto");
  EXPECT_EQ(target_.sets.back(), 2);  // ceil(0.2 x 6)
}

TEST_F(AutoscaleCoordinatorTest, PauseHoldsAndResumeActs) {
  cpu_ = 0.9;
  auto c = make();
  ASSERT_OK(c->pause("web", "bob"));
  c->tick();
  EXPECT_TRUE(target_.sets.empty());
  EXPECT_EQ(records_.back().action, "hold");
  EXPECT_NE(records_.back().reason.find("paused by bob"), std::string::npos);
  c.reset();
  auto again = make();
  EXPECT_EQ((*again->describe("web"))["mode"], "paused");
  ASSERT_OK(again->resume("web"));
  advance(1);
  again->tick();
  EXPECT_EQ(target_.sets, std::vector<int32_t>{4});
}

}  // namespace
}  // namespace noa::controller::autoscale
