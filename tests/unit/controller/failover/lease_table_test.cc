#include "controller/failover/lease_table.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"

namespace noa::controller::failover {
namespace {

using std::chrono::milliseconds;

TEST(LeaseTable, OnlyTheGrantingHolderIsRenewedAndTheLeaseEndsAfterLeasePlusMargin) {
  ::noa::testing::FakeClock clock;
  LeaseTable t;
  EXPECT_TRUE(t.surelyExpired("pg", clock.now(), milliseconds(300))) << "no holder, no lease";
  t.setHolder("pg", "pg-1", 4, milliseconds(2000), true, clock.now());
  EXPECT_FALSE(t.renew("pg", "pg-2", clock.now()));
  auto grant = t.renew("pg", "pg-1", clock.now());
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->lease_ms, 2000u);
  EXPECT_EQ(grant->epoch, 4u);
  EXPECT_EQ(t.renewals("pg"), 1u);
  t.stopGranting("pg");
  EXPECT_FALSE(t.renew("pg", "pg-1", clock.now()));
  clock.advance(milliseconds(2299));
  EXPECT_FALSE(t.surelyExpired("pg", clock.now(), milliseconds(300)));
  clock.advance(milliseconds(1));
  EXPECT_TRUE(t.surelyExpired("pg", clock.now(), milliseconds(300)));
}

TEST(LeaseTable, ARestartCountsTheLeaseFromItsOwnStart) {
  ::noa::testing::FakeClock clock;
  LeaseTable t;
  t.setHolder("pg", "pg-1", 1, milliseconds(2000), true, clock.now() + milliseconds(2000));
  clock.advance(milliseconds(2200));
  EXPECT_FALSE(t.surelyExpired("pg", clock.now(), milliseconds(300)));
  clock.advance(milliseconds(100));
  EXPECT_TRUE(t.surelyExpired("pg", clock.now(), milliseconds(300)));
}

TEST(LeaseTable, ANewHolderStartsWithoutRenewals) {
  ::noa::testing::FakeClock clock;
  LeaseTable t;
  t.setHolder("pg", "pg-1", 1, milliseconds(2000), true, clock.now());
  t.renew("pg", "pg-1", clock.now());
  t.setHolder("pg", "pg-2", 2, milliseconds(2000), true, clock.now());
  EXPECT_EQ(t.renewals("pg"), 0u);
  EXPECT_EQ(t.holder("pg"), "pg-2");
}

}  // namespace
}  // namespace noa::controller::failover
