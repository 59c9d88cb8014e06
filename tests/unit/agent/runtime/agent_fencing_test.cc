// The fencing runtime: guard + persisted state + a ServiceFence run on its own worker, the
// fence/unfence actions, and the report attributes. Fake clock for the lease, a fake fence.

#include "agent/runtime/agent_fencing.h"

#include <prometheus/registry.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/runtime/agent_metrics.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

struct FenceCalls {
  std::atomic<int> fences{0};
  std::atomic<int> unfences{0};
  std::atomic<int> attempts{0};
  std::atomic<int> running{0};
  std::atomic<int> overlaps{0};
  std::atomic<bool> fail{false};
  std::atomic<int> delay_ms{0};
};

class FakeFence final : public replication::ServiceFence {
 public:
  explicit FakeFence(FenceCalls& calls) : calls_(calls) {}
  Status fence() override { return call(calls_.fences); }
  Status unfence() override { return call(calls_.unfences); }
  std::string_view method() const override { return "fake_fence"; }

 private:
  Status call(std::atomic<int>& counter) {
    ++calls_.attempts;
    if (calls_.running.fetch_add(1) > 0) ++calls_.overlaps;
    std::this_thread::sleep_for(std::chrono::milliseconds(calls_.delay_ms.load()));
    --calls_.running;
    if (calls_.fail) return Status::Unavailable("fake fence refuses");
    ++counter;
    return Status::Ok();
  }
  FenceCalls& calls_;
};

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 3000ms) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

class AgentFencingTest : public ::testing::Test {
 protected:
  void SetUp() override { make(); }
  void TearDown() override {
    if (fencing_) fencing_->stop();
  }

  void make() {
    if (fencing_) fencing_->stop();
    AgentFencingOptions options;
    options.guard.lease = 2000ms;
    options.state_dir = dir_.path();
    options.tick = 10ms;
    options.default_action_timeout = 2000ms;
    AgentFencingHooks hooks;
    hooks.role = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      return role_;
    };
    hooks.on_transition = [this](bool to_fenced, std::string_view reason) {
      std::lock_guard<std::mutex> lock(mu_);
      transitions_.push_back((to_fenced ? "fenced:" : "unfenced:") + std::string(reason));
    };
    fencing_ = AgentFencing::create(options, clock_, std::make_unique<FakeFence>(calls_),
                                    std::move(hooks));
    fencing_->start();
  }
  void setRole(std::string role) {
    std::lock_guard<std::mutex> lock(mu_);
    role_ = std::move(role);
  }
  std::vector<std::string> transitions() {
    std::lock_guard<std::mutex> lock(mu_);
    return transitions_;
  }
  std::map<std::string, std::string> attributes() {
    std::map<std::string, std::string> a;
    fencing_->fillAttributes(a);
    return a;
  }
  std::string statePath() const { return dir_.path() + "/fence.json"; }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  FenceCalls calls_;
  std::mutex mu_;
  std::string role_;
  std::vector<std::string> transitions_;
  std::unique_ptr<AgentFencing> fencing_;
};

TEST_F(AgentFencingTest, FencesAtTheDeadlineAndHealsOnGrant) {
  setRole("primary");
  fencing_->onGrant(clock_.now() + 3000ms, 4);
  std::this_thread::sleep_for(50ms);
  auto a = attributes();
  EXPECT_EQ(a["fenced"], "");
  EXPECT_EQ(a["fenced_by"], "");
  EXPECT_EQ(a["lease_valid"], "1");
  EXPECT_EQ(a["lease_epoch"], "4");
  EXPECT_EQ(calls_.fences.load(), 0);

  clock_.advance(3000ms);  // the ticker notices without any input
  ASSERT_TRUE(eventually([&] { return calls_.fences.load() >= 1; }));
  a = attributes();
  EXPECT_EQ(a["fenced"], "no_lease");
  EXPECT_EQ(a["fenced_by"], "fake_fence");
  EXPECT_EQ(a["fence_applied"], "1");
  EXPECT_EQ(a["lease_valid"], "0");
  EXPECT_TRUE(std::filesystem::exists(statePath()));
  EXPECT_EQ(transitions(), std::vector<std::string>{"fenced:no_lease"});

  fencing_->onGrant(clock_.now() + 1000ms, 4);
  ASSERT_TRUE(eventually([&] { return calls_.unfences.load() == 1; }));
  EXPECT_EQ(attributes()["fenced"], "");
  EXPECT_FALSE(std::filesystem::exists(statePath()));
  EXPECT_EQ(transitions(), (std::vector<std::string>{"fenced:no_lease", "unfenced:lease_granted"}));
  EXPECT_EQ(calls_.overlaps.load(), 0);
}

TEST_F(AgentFencingTest, ReplicaIsNeverFenced) {
  setRole("replica");
  clock_.advance(10s);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls_.fences.load(), 0);
  EXPECT_EQ(attributes()["fenced"], "");
  EXPECT_TRUE(transitions().empty());
}

TEST_F(AgentFencingTest, FenceActionConfirmsPersistsAndSurvivesARestart) {
  setRole("primary");
  fencing_->onGrant(clock_.now() + 60s, 9);
  std::this_thread::sleep_for(30ms);
  actions::ActionResult result = fencing_->runFence({});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.details["fenced"], true);
  EXPECT_EQ(result.details["method"], "fake_fence");
  EXPECT_EQ(result.details["was_role"], "primary");
  EXPECT_EQ(result.details["reason"], "controller");
  EXPECT_EQ(result.details["epoch"], 9);
  EXPECT_GE(calls_.fences.load(), 1);
  EXPECT_EQ(attributes()["fenced"], "controller");

  // Grants do not lift a controller's fence, and neither does a restart of the agent.
  fencing_->onGrant(clock_.now() + 60s, 9);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(attributes()["fenced"], "controller");
  const int before = calls_.fences.load();
  make();
  EXPECT_EQ(attributes()["fenced"], "controller");
  ASSERT_TRUE(eventually([&] { return calls_.fences.load() > before; }));  // applied again

  clock_.advance(3s);  // past this run's startup grace, still without a lease
  result = fencing_->runUnfence({});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.details["fenced"], true);  // no lease in this run yet: the rule holds
  EXPECT_EQ(result.details["reason"], "no_lease");
  fencing_->onGrant(clock_.now() + 60s, 9);
  ASSERT_TRUE(eventually([&] { return calls_.unfences.load() == 1; }));
  EXPECT_FALSE(std::filesystem::exists(statePath()));
}

TEST_F(AgentFencingTest, UnfenceActionWaitsForTheService) {
  setRole("primary");
  fencing_->onGrant(clock_.now() + 60s, 1);
  ASSERT_TRUE(fencing_->runFence({}).ok);
  calls_.delay_ms = 100;
  actions::ActionResult result = fencing_->runUnfence({});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.details["fenced"], false);
  EXPECT_EQ(calls_.unfences.load(), 1);
  EXPECT_EQ(transitions().back(), "unfenced:unfence_command");
}

TEST_F(AgentFencingTest, FenceActionOnAReplicaSucceedsWithoutFencing) {
  setRole("replica");
  std::this_thread::sleep_for(30ms);
  actions::ActionResult result = fencing_->runFence({});
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.details["fenced"], false);
  EXPECT_EQ(result.details["was_role"], "replica");
  EXPECT_EQ(calls_.fences.load(), 0);
}

TEST_F(AgentFencingTest, FailingFenceIsRetriedAndTheActionTimesOut) {
  setRole("primary");
  calls_.fail = true;
  fencing_->onGrant(clock_.now() + 60s, 1);
  actions::ActionContext context;
  context.timeout = 300ms;
  // The fake clock does not move by itself: move it in the background so retries and the
  // action's deadline come.
  std::atomic<bool> done{false};
  std::thread mover([&] {
    while (!done) {
      clock_.advance(50ms);
      std::this_thread::sleep_for(5ms);
    }
  });
  actions::ActionResult result = fencing_->runFence(context);
  done = true;
  mover.join();
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error_code, actions::kErrTimeout);
  EXPECT_NE(result.error.find("fake fence refuses"), std::string::npos) << result.error;
  EXPECT_EQ(attributes()["fenced"], "controller");
  EXPECT_EQ(attributes()["fence_applied"], "0");
  EXPECT_GE(calls_.attempts.load(), 2);  // retried every 200 ms (fake) while it failed
  calls_.fail = false;
  clock_.advance(200ms);
  ASSERT_TRUE(eventually([&] { return attributes()["fence_applied"] == "1"; }));
  EXPECT_EQ(calls_.overlaps.load(), 0);
}

TEST_F(AgentFencingTest, FenceCallsNeverOverlap) {
  setRole("primary");
  calls_.delay_ms = 30;
  clock_.advance(3s);
  ASSERT_TRUE(eventually([&] { return calls_.fences.load() >= 1; }));
  for (int i = 0; i < 5; ++i) {
    fencing_->onGrant(clock_.now() + 10ms, 1);
    clock_.advance(20ms);
    fencing_->onServiceProcess(ProcessState::kRunning, 100 + i);
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls_.overlaps.load(), 0);
}

TEST_F(AgentFencingTest, PromotionWaitsForTheLeaseAndAsksForAReport) {
  std::atomic<int> reports{0};
  fencing_->stop();
  AgentFencingOptions options;
  options.state_dir = dir_.path();
  options.tick = 10ms;
  options.promote_lease_wait = 200ms;
  AgentFencingHooks hooks;
  hooks.request_report = [&] { ++reports; };
  fencing_ = AgentFencing::create(options, clock_, std::make_unique<FakeFence>(calls_),
                                  std::move(hooks));
  fencing_->start();
  std::thread granter([&] {
    std::this_thread::sleep_for(50ms);
    fencing_->onGrant(clock_.now() + 1000ms, 2);
  });
  EXPECT_TRUE(fencing_->awaitLease({}).ok());
  granter.join();
  EXPECT_EQ(reports.load(), 1);

  clock_.advance(2s);  // the lease ran out; no grant comes
  std::atomic<bool> done{false};
  std::thread mover([&] {
    while (!done) {
      clock_.advance(20ms);
      std::this_thread::sleep_for(5ms);
    }
  });
  const Status refused = fencing_->awaitLease({});
  done = true;
  mover.join();
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition) << refused.toString();
}

TEST_F(AgentFencingTest, UnreadableStateCountsAsNoLeaseFence) {
  fencing_->stop();
  { std::ofstream(statePath()) << "garbage"; }
  make();
  EXPECT_EQ(attributes()["fenced"], "no_lease");
}

}  // namespace
}  // namespace noa::agent

namespace noa::agent {
namespace {

TEST(AgentFencingMetrics, TransitionsAreCountedByDirectionAndReason) {
  prometheus::Registry registry;
  AgentMetrics metrics(registry, {});
  EXPECT_EQ(metrics.fencedForTest(), 0);
  EXPECT_EQ(metrics.fenceTransitionsForTest(true, "no_lease"), 0);  // present before any change
  metrics.observeFenceTransition(true, "no_lease");
  EXPECT_EQ(metrics.fencedForTest(), 1);
  metrics.observeFenceTransition(false, "lease_granted");
  metrics.observeFenceTransition(true, "controller");
  EXPECT_EQ(metrics.fenceTransitionsForTest(true, "no_lease"), 1);
  EXPECT_EQ(metrics.fenceTransitionsForTest(false, "lease_granted"), 1);
  EXPECT_EQ(metrics.fenceTransitionsForTest(true, "controller"), 1);
  EXPECT_EQ(metrics.fencedForTest(), 1);
}

}  // namespace
}  // namespace noa::agent
