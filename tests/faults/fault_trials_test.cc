// CI's share of the fault trials (tests/faults/README.md): a few trials of every kind, each
// bounded; every one must pass. The full counts run through noa_fault_trials.

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/faults/trial.h"

namespace noa::testing::faults {
namespace {

TrialOptions small(int trials) {
  TrialOptions o;
  o.trials = trials;
  o.binaries = {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN};
  o.seed = static_cast<uint32_t>(::getpid());
  return o;
}

void expectAllPassed(const TrialTally& tally) {
  std::cout << tally.summary() << std::endl;
  EXPECT_GT(tally.trials, 0);
  EXPECT_EQ(tally.passed, tally.trials) << tally.summary();
  EXPECT_TRUE(tally.failures.empty()) << tally.summary();
}

TEST(FaultTrials, ControllerKill9DuringIngestAndCommands) {
  expectAllPassed(controllerKillTrials(small(3)));
}

TEST(FaultTrials, AgentKill9DuringASnapshot) { expectAllPassed(agentKillTrials(small(3))); }

TEST(FaultTrials, NetworkPartitionOfTheRedisPrimary) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (ip netns)";
  expectAllPassed(partitionTrials(small(2)));
}

TEST(FaultTrials, FullStoreDiskDegradesAndRecovers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mount -t tmpfs)";
  expectAllPassed(diskFullTrials(small(2)));
}

TEST(FaultTrials, FrozenStoreDiskDegradesAndRecovers) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (losetup, mount, fsfreeze)";
  expectAllPassed(slowDiskTrials(small(1)));
}

TEST(FaultTrials, AgentWallClockJumpsKeepTheLease) { expectAllPassed(clockJumpTrials(small(1))); }

}  // namespace
}  // namespace noa::testing::faults
