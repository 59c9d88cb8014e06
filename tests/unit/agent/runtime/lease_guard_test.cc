// The lease guard's rule on a fake clock: a primary takes writes only under a valid lease.

#include "agent/runtime/lease_guard.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"

namespace noa::agent {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;

class LeaseGuardTest : public ::testing::Test {
 protected:
  LeaseGuardTest() : start_(clock_.now()), guard_(options(), start_) {}

  static LeaseGuardOptions options() {
    LeaseGuardOptions o;
    o.lease = milliseconds(2000);
    return o;
  }
  GuardStep step() { return guard_.step(clock_.now(), clock_.wallNow()); }
  // Steps and completes whatever the guard asks for with `ok`.
  GuardStep stepAndRun(bool ok = true) {
    GuardStep s = step();
    if (s.action != FenceAction::kNone) guard_.finished(s.action, ok, clock_.now());
    return s;
  }
  void grantFor(milliseconds lease, uint64_t epoch = 1) {
    EXPECT_TRUE(guard_.grant(clock_.now() + lease, epoch));
  }

  FakeClock clock_;
  MonoTime start_;
  LeaseGuard guard_;
};

TEST_F(LeaseGuardTest, PrimaryWithoutLeaseIsFencedOnlyAfterStartupGrace) {
  guard_.setRole(ServiceRole::kPrimary);
  EXPECT_EQ(step().action, FenceAction::kNone);
  clock_.advance(milliseconds(1999));
  GuardStep s = step();
  EXPECT_EQ(s.action, FenceAction::kNone);
  EXPECT_EQ(s.next_check, start_ + milliseconds(2000));  // wakes at the grace's end
  clock_.advance(milliseconds(1));
  s = step();
  EXPECT_TRUE(s.state_changed);
  EXPECT_EQ(s.previous, FenceReason::kNone);
  EXPECT_EQ(guard_.reason(), FenceReason::kNoLease);
  EXPECT_EQ(s.action, FenceAction::kFence);
}

TEST_F(LeaseGuardTest, FencesExactlyAtTheDeadlineAndHealsOnGrant) {
  guard_.setRole(ServiceRole::kPrimary);
  grantFor(milliseconds(1000), 3);
  EXPECT_EQ(step().action, FenceAction::kNone);
  clock_.advance(milliseconds(2500));  // past grace; renewals keep it valid
  grantFor(milliseconds(1000), 3);
  GuardStep s = step();
  EXPECT_EQ(s.action, FenceAction::kNone);
  EXPECT_EQ(s.next_check, clock_.now() + milliseconds(1000));
  clock_.advance(milliseconds(999));
  EXPECT_EQ(step().action, FenceAction::kNone);
  EXPECT_TRUE(guard_.leaseValid(clock_.now()));
  clock_.advance(milliseconds(1));
  EXPECT_FALSE(guard_.leaseValid(clock_.now()));
  s = stepAndRun();
  EXPECT_EQ(s.action, FenceAction::kFence);
  EXPECT_EQ(guard_.reason(), FenceReason::kNoLease);
  EXPECT_EQ(guard_.record().epoch, 3u);
  EXPECT_TRUE(guard_.fenceApplied());

  // The controller still considers us leader: the blip heals without a failover.
  clock_.advance(milliseconds(5000));
  grantFor(milliseconds(1000), 3);
  s = stepAndRun();
  EXPECT_TRUE(s.state_changed);
  EXPECT_EQ(s.previous, FenceReason::kNoLease);
  EXPECT_EQ(s.action, FenceAction::kUnfence);
  EXPECT_EQ(guard_.reason(), FenceReason::kNone);
  EXPECT_TRUE(guard_.unfenceApplied());
}

TEST_F(LeaseGuardTest, WallClockJumpsDoNotTouchTheLease) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(2500));
  grantFor(milliseconds(1000));
  clock_.jumpWall(std::chrono::hours(2));
  EXPECT_EQ(step().action, FenceAction::kNone);
  clock_.jumpWall(-std::chrono::hours(4));
  EXPECT_EQ(step().action, FenceAction::kNone);
  EXPECT_TRUE(guard_.leaseValid(clock_.now()));
  clock_.advance(milliseconds(1000));
  EXPECT_EQ(step().action, FenceAction::kFence);
}

TEST_F(LeaseGuardTest, GrantOfAnOlderEpochIsIgnoredAndSameEpochNeverShortens) {
  grantFor(milliseconds(1000), 5);
  EXPECT_FALSE(guard_.grant(clock_.now() + milliseconds(9000), 4));
  EXPECT_EQ(*guard_.deadline(), clock_.now() + milliseconds(1000));
  EXPECT_TRUE(guard_.grant(clock_.now() + milliseconds(500), 5));
  EXPECT_EQ(*guard_.deadline(), clock_.now() + milliseconds(1000));
  EXPECT_TRUE(guard_.grant(clock_.now() + milliseconds(300), 6));  // a new term replaces
  EXPECT_EQ(*guard_.deadline(), clock_.now() + milliseconds(300));
  EXPECT_EQ(guard_.highestEpoch(), 6u);
}

TEST_F(LeaseGuardTest, ReplicaIsNeverFenced) {
  guard_.setRole(ServiceRole::kReplica);
  clock_.advance(milliseconds(10000));
  GuardStep s = step();
  EXPECT_EQ(s.action, FenceAction::kNone);
  EXPECT_FALSE(s.state_changed);
  EXPECT_EQ(guard_.reason(), FenceReason::kNone);
}

TEST_F(LeaseGuardTest, UnknownRoleIsNotFencedButARestartedPrimaryIsAtOnce) {
  clock_.advance(milliseconds(3000));
  EXPECT_EQ(step().action, FenceAction::kNone);  // down: nothing takes writes
  guard_.setRole(ServiceRole::kPrimary);          // an old primary restarted
  EXPECT_EQ(step().action, FenceAction::kFence);
  EXPECT_EQ(guard_.reason(), FenceReason::kNoLease);
}

TEST_F(LeaseGuardTest, FailedFenceIsRetriedEvery200ms) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(2000));
  GuardStep s = step();
  ASSERT_EQ(s.action, FenceAction::kFence);
  EXPECT_TRUE(guard_.busy());
  EXPECT_EQ(step().action, FenceAction::kNone);  // never two at once
  guard_.finished(FenceAction::kFence, false, clock_.now());
  s = step();
  EXPECT_EQ(s.action, FenceAction::kNone);
  EXPECT_EQ(s.next_check, clock_.now() + milliseconds(200));
  clock_.advance(milliseconds(200));
  EXPECT_EQ(step().action, FenceAction::kFence);
  guard_.finished(FenceAction::kFence, true, clock_.now());
  EXPECT_TRUE(guard_.fenceApplied());
}

TEST_F(LeaseGuardTest, AppliedFenceIsReassertedWhileThePrimaryRuns) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(2000));
  stepAndRun();
  EXPECT_EQ(step().action, FenceAction::kNone);
  clock_.advance(milliseconds(1000));
  EXPECT_EQ(step().action, FenceAction::kFence);  // periodic re-assertion
}

TEST_F(LeaseGuardTest, ServiceRestartReappliesAFence) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(2000));
  stepAndRun();
  guard_.serviceRestarted();
  EXPECT_EQ(step().action, FenceAction::kFence);
}

TEST_F(LeaseGuardTest, FailedFenceThenGrantUnfencesWhatMayBeHalfApplied) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(2000));
  stepAndRun(false);
  grantFor(milliseconds(1000));
  EXPECT_EQ(step().action, FenceAction::kUnfence);  // no retry wait for the opposite call
}

TEST_F(LeaseGuardTest, ControllerFenceStaysDespiteGrantsUntilUnfence) {
  guard_.setRole(ServiceRole::kPrimary);
  grantFor(milliseconds(5000), 2);
  guard_.controllerFence(clock_.wallNow());
  GuardStep s = stepAndRun();
  EXPECT_TRUE(s.state_changed);
  EXPECT_EQ(s.action, FenceAction::kFence);
  EXPECT_EQ(guard_.reason(), FenceReason::kController);
  EXPECT_EQ(guard_.record().epoch, 2u);
  EXPECT_EQ(guard_.record().since_ms, toUnixMillis(clock_.wallNow()));
  EXPECT_EQ(guard_.fenceSuccesses(), 1u);

  grantFor(milliseconds(5000), 2);
  s = step();
  EXPECT_FALSE(s.state_changed);
  EXPECT_EQ(guard_.reason(), FenceReason::kController);

  guard_.controllerUnfence();
  s = stepAndRun();
  EXPECT_TRUE(s.state_changed);
  EXPECT_EQ(s.previous, FenceReason::kController);
  EXPECT_EQ(s.action, FenceAction::kUnfence);
  EXPECT_EQ(guard_.reason(), FenceReason::kNone);
}

TEST_F(LeaseGuardTest, UnfenceOrderLeavesTheLeaseRuleInForce) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(3000));
  guard_.controllerFence(clock_.wallNow());
  stepAndRun();
  guard_.controllerUnfence();
  GuardStep s = step();
  EXPECT_EQ(guard_.reason(), FenceReason::kNoLease);  // no lease: still fenced
  EXPECT_TRUE(s.state_changed);
  EXPECT_EQ(s.previous, FenceReason::kController);
  EXPECT_EQ(s.action, FenceAction::kNone);  // already applied
}

TEST_F(LeaseGuardTest, ControllerFenceClearsWhenTheServiceRunsAsReplica) {
  guard_.setRole(ServiceRole::kPrimary);
  guard_.controllerFence(clock_.wallNow());
  stepAndRun();
  guard_.setRole(ServiceRole::kUnknown);  // pg_rewind, restart as standby
  EXPECT_EQ(step().action, FenceAction::kNone);
  EXPECT_EQ(guard_.reason(), FenceReason::kController);
  guard_.setRole(ServiceRole::kReplica);
  GuardStep s = step();
  EXPECT_TRUE(s.state_changed);
  EXPECT_EQ(guard_.reason(), FenceReason::kNone);
  EXPECT_EQ(s.action, FenceAction::kUnfence);  // e.g. lift a Redis pause on the new replica
}

TEST_F(LeaseGuardTest, EveryControllerOrderIsConfirmedByAFreshFenceCall) {
  guard_.setRole(ServiceRole::kPrimary);
  clock_.advance(milliseconds(2000));
  stepAndRun();  // fenced no_lease
  ASSERT_TRUE(guard_.fenceApplied());
  guard_.controllerFence(clock_.wallNow());
  EXPECT_EQ(step().action, FenceAction::kFence);
}

TEST(LeaseGuardRestore, RestoredControllerFenceIsAppliedAgainAndKeepsItsEpoch) {
  FakeClock clock;
  FenceRecord record{FenceReason::kController, 7, 1'790'000'000'000};
  LeaseGuard guard(LeaseGuardOptions{}, clock.now(), record);
  guard.setRole(ServiceRole::kPrimary);
  EXPECT_EQ(guard.reason(), FenceReason::kController);
  GuardStep s = guard.step(clock.now(), clock.wallNow());
  EXPECT_EQ(s.action, FenceAction::kFence);  // at once, no grace for a restored fence
  EXPECT_FALSE(s.state_changed);
  guard.finished(s.action, true, clock.now());
  EXPECT_FALSE(guard.grant(clock.now() + milliseconds(1000), 6));
  EXPECT_TRUE(guard.grant(clock.now() + milliseconds(1000), 7));
  EXPECT_EQ(guard.reason(), FenceReason::kController);
}

TEST(LeaseGuardRestore, RestoredNoLeaseFenceLiftsWithAGrant) {
  FakeClock clock;
  LeaseGuard guard(LeaseGuardOptions{}, clock.now(), FenceRecord{FenceReason::kNoLease, 0, 0});
  guard.setRole(ServiceRole::kUnknown);  // PostgreSQL stopped by the fence
  GuardStep s = guard.step(clock.now(), clock.wallNow());
  EXPECT_EQ(s.action, FenceAction::kFence);
  guard.finished(s.action, true, clock.now());
  ASSERT_TRUE(guard.grant(clock.now() + milliseconds(1000), 1));
  s = guard.step(clock.now(), clock.wallNow());
  EXPECT_EQ(guard.reason(), FenceReason::kNone);
  EXPECT_EQ(s.action, FenceAction::kUnfence);  // start it again
}

TEST(LeaseGuardOff, ZeroLeaseNeverFences) {
  FakeClock clock;
  LeaseGuardOptions options;
  options.lease = milliseconds(0);
  LeaseGuard guard(options, clock.now());
  guard.setRole(ServiceRole::kPrimary);
  clock.advance(milliseconds(60000));
  EXPECT_EQ(guard.step(clock.now(), clock.wallNow()).action, FenceAction::kNone);
  EXPECT_EQ(guard.reason(), FenceReason::kNone);
}

TEST(LeaseGuardNames, RoundTrip) {
  for (FenceReason r : {FenceReason::kNone, FenceReason::kNoLease, FenceReason::kController}) {
    EXPECT_EQ(parseFenceReason(fenceReasonName(r)), r);
  }
  EXPECT_FALSE(parseFenceReason("bogus").has_value());
  EXPECT_EQ(parseServiceRole("primary"), ServiceRole::kPrimary);
  EXPECT_EQ(parseServiceRole("replica"), ServiceRole::kReplica);
  EXPECT_EQ(parseServiceRole(""), ServiceRole::kUnknown);
}

}  // namespace
}  // namespace noa::agent
