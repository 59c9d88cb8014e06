#include "controller/registry/liveness.h"

#include <gtest/gtest.h>

#include "controller/registry/registry.h"
#include "tests/testing/fake_clock.h"

namespace noa::controller {
namespace {

using std::chrono::milliseconds;

TEST(Liveness, SuspectThenLostAfterTheConfiguredIntervals) {
  const LivenessPolicy policy{milliseconds(1000), 3, 5};
  EXPECT_EQ(evaluateLiveness(milliseconds(0), milliseconds(0), policy), Liveness::kAlive);
  EXPECT_EQ(evaluateLiveness(milliseconds(3000), milliseconds(0), policy), Liveness::kAlive);
  EXPECT_EQ(evaluateLiveness(milliseconds(3001), milliseconds(0), policy), Liveness::kSuspect);
  EXPECT_EQ(evaluateLiveness(milliseconds(5000), milliseconds(0), policy), Liveness::kSuspect);
  EXPECT_EQ(evaluateLiveness(milliseconds(5001), milliseconds(0), policy), Liveness::kLost);
}

TEST(Liveness, ASlowerAgentIsJudgedByItsOwnInterval) {
  const LivenessPolicy policy{milliseconds(1000), 3, 5};
  EXPECT_EQ(evaluateLiveness(milliseconds(8000), milliseconds(10'000), policy), Liveness::kAlive);
  EXPECT_EQ(evaluateLiveness(milliseconds(51'000), milliseconds(10'000), policy), Liveness::kLost);
}

AgentRecord record(const std::string& id) {
  AgentRecord r;
  r.hello.agent_id = id;
  r.hello.service = "svc";
  return r;
}

TEST(Registry, SweepDegradesSilentAgentsAndReportsEachChangeOnce) {
  testing::FakeClock clock;
  Registry registry;
  registry.put(record("a"), clock.now());
  clock.advance(milliseconds(2000));
  registry.put(record("b"), clock.now());
  const LivenessPolicy policy{milliseconds(1000), 3, 5};

  clock.advance(milliseconds(1500));  // a silent 3.5 s, b 1.5 s
  std::vector<AgentRecord> changed;
  auto changes = registry.sweep(clock.now(), 0, policy, &changed);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].agent_id, "a");
  EXPECT_EQ(changes[0].to, Liveness::kSuspect);
  EXPECT_EQ(changed.size(), 1u);
  EXPECT_TRUE(registry.sweep(clock.now(), 0, policy, nullptr).empty());

  clock.advance(milliseconds(2000));  // a 5.5 s -> lost, b 3.5 s -> suspect
  changes = registry.sweep(clock.now(), 0, policy, nullptr);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(registry.get("a")->liveness, Liveness::kLost);
  EXPECT_EQ(registry.get("b")->liveness, Liveness::kSuspect);
  const auto counts = registry.counts();
  EXPECT_EQ(counts.lost, 1u);
  EXPECT_EQ(counts.suspect, 1u);
}

TEST(Registry, LoadGivesAGracePeriodSoARestartAloneMarksNobodyLost) {
  testing::FakeClock clock;
  Registry registry;
  auto stored = record("a");
  stored.last_seen_ms = 1;  // long ago
  registry.load({stored}, clock.now());
  const LivenessPolicy policy{milliseconds(1000), 3, 5};
  EXPECT_TRUE(registry.sweep(clock.now(), 0, policy, nullptr).empty());
  clock.advance(milliseconds(5500));
  EXPECT_EQ(registry.sweep(clock.now(), 0, policy, nullptr).size(), 1u);
}

}  // namespace
}  // namespace noa::controller
