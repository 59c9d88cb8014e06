#include "controller/decisions/decision_log.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::decisions {
namespace {

DecisionRecord hold(const std::string& service, const std::string& reason) {
  DecisionRecord d;
  d.service = service;
  d.kind = "failover";
  d.action = "hold";
  d.reason = reason;
  d.inputs = {{"x", 1}};
  return d;
}

TEST(DecisionLog, StoresListsNewestFirstAndSurvivesReopen) {
  noa::controller::testing::TempDir dir;
  ::noa::testing::FakeClock clock;
  auto store = Store::open({dir.path()});
  ASSERT_OK(store);
  {
    auto log = DecisionLog::open(**store, clock);
    ASSERT_OK(log);
    ASSERT_OK((*log)->append(hold("pg", "first")));
    clock.advance(std::chrono::milliseconds(5));
    ASSERT_OK((*log)->append(hold("redis", "second")));
  }
  auto log = DecisionLog::open(**store, clock);
  ASSERT_OK(log);
  auto all = (*log)->list({});
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].reason, "second");
  EXPECT_EQ((*all)[1].inputs["x"], 1);
  DecisionFilter only_pg;
  only_pg.service = "pg";
  EXPECT_EQ((*log)->list(only_pg)->size(), 1u);
  auto got = (*log)->get((*all)[1].id);
  ASSERT_OK(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->reason, "first");
}

TEST(DecisionLog, RepeatedHoldsAreStoredOncePerInterval) {
  noa::controller::testing::TempDir dir;
  ::noa::testing::FakeClock clock;
  auto store = Store::open({dir.path()});
  ASSERT_OK(store);
  auto log = DecisionLog::open(**store, clock);
  ASSERT_OK(log);
  ASSERT_OK((*log)->append(hold("pg", "no candidate")));
  auto again = (*log)->append(hold("pg", "no candidate"));
  ASSERT_OK(again);
  EXPECT_TRUE(again->repeated);
  clock.advance(std::chrono::minutes(2));
  EXPECT_FALSE((*log)->append(hold("pg", "no candidate"))->repeated);
  EXPECT_EQ((*log)->list({})->size(), 2u);
}

TEST(DecisionLog, KeepsAtMostMaxRecordsAndRefusesIncompleteOnes) {
  noa::controller::testing::TempDir dir;
  ::noa::testing::FakeClock clock;
  auto store = Store::open({dir.path()});
  ASSERT_OK(store);
  DecisionLogOptions options;
  options.max_records = 3;
  options.repeat_interval_ms = 0;
  auto log = DecisionLog::open(**store, clock, options);
  ASSERT_OK(log);
  for (int i = 0; i < 5; ++i) ASSERT_OK((*log)->append(hold("pg", "r" + std::to_string(i))));
  auto reopened = DecisionLog::open(**store, clock, options);
  ASSERT_OK(reopened);
  auto all = (*reopened)->list({});
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].reason, "r2");
  DecisionRecord bad;
  bad.service = "pg";
  EXPECT_EQ((*log)->append(bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace noa::controller::decisions
