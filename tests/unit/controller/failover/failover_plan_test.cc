#include "controller/failover/failover_plan.h"

#include <gtest/gtest.h>

#include "tests/unit/controller/failover/failover_test_util.h"

namespace noa::controller::failover {
namespace {

using testing::MemberSpec;

std::vector<MemberState> states(const std::vector<MemberSpec>& specs) {
  std::vector<MemberState> out;
  for (const auto& s : specs) out.push_back(memberFromRecord(testing::memberRecord(s, 1000), 1000, 3000));
  return out;
}

TEST(FailoverPlan, LeaderHealth) {
  auto m = states({{.id = "a", .role = "primary"},
                   {.id = "b", .role = "primary", .fenced = "no_lease"},
                   {.id = "c", .role = "", .exited = true},
                   {.id = "d", .role = "primary", .reachable = false}});
  EXPECT_EQ(assessLeader("a", m).health, LeaderHealth::kServing);
  EXPECT_EQ(assessLeader("b", m).health, LeaderHealth::kSelfFenced);
  EXPECT_EQ(assessLeader("c", m).health, LeaderHealth::kDown);
  EXPECT_EQ(assessLeader("c", m).reason, "c: service process exited");
  EXPECT_EQ(assessLeader("d", m).health, LeaderHealth::kSilent);
  EXPECT_EQ(assessLeader("zz", m).health, LeaderHealth::kSilent);
}

TEST(FailoverPlan, MostAdvancedThenPriorityThenName) {
  FailoverPolicy policy;
  policy.priority["c"] = 2;
  auto m = states({{.id = "a", .position = "0/100"}, {.id = "b", .position = "0/200"},
                   {.id = "c", .position = "0/200"}, {.id = "d", .position = "0/200"}});
  CandidateChoice choice = chooseCandidate(m, policy, {});
  ASSERT_TRUE(choice.chosen);
  EXPECT_EQ(*choice.chosen, "c");
  policy.priority.clear();
  EXPECT_EQ(*chooseCandidate(m, policy, {}).chosen, "b");
}

TEST(FailoverPlan, LagIsMeasuredAgainstTheLeadersLastPosition) {
  FailoverPolicy policy;
  policy.maximum_lag_bytes = 100;
  auto m = states({{.id = "a", .position = "0/1000"}});
  CandidateRules rules;
  rules.leader_position = 0x1000 + 101;
  CandidateChoice choice = chooseCandidate(m, policy, rules);
  EXPECT_FALSE(choice.chosen);
  EXPECT_EQ(choice.reason, "no candidate: a lag 101 bytes > maximum_lag 100");
  rules.check_lag = false;
  EXPECT_TRUE(chooseCandidate(m, policy, rules).chosen);
}

TEST(FailoverPlan, UnhealthyExcludedAndNofailoverAreNeverChosen) {
  FailoverPolicy policy;
  policy.nofailover.insert("c");
  auto m = states({{.id = "a", .live = false}, {.id = "b", .reachable = false},
                   {.id = "c"}, {.id = "d"}, {.id = "e", .role = "primary"}});
  CandidateRules rules;
  rules.excluded.insert("d");
  CandidateChoice choice = chooseCandidate(m, policy, rules);
  EXPECT_FALSE(choice.chosen);
  EXPECT_NE(choice.reason.find("c nofailover"), std::string::npos) << choice.reason;
  EXPECT_NE(choice.reason.find("d excluded"), std::string::npos) << choice.reason;
  EXPECT_NE(choice.reason.find("b agent not reachable"), std::string::npos) << choice.reason;
}

TEST(FailoverPlan, MembersToFenceAndToFollow) {
  auto m = states({
      {.id = "L", .role = "primary", .port = 1, .replica_names = "r1"},
      {.id = "r1"},
      {.id = "r2"},
      {.id = "p2", .role = "primary"},
      {.id = "old", .role = "", .fenced = "controller", .exited = true},
  });
  auto plans = planMembers(m[0], m);
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_EQ(plans[0].agent_id, "r2");
  EXPECT_EQ(plans[0].fix, MemberFix::kFollow);
  EXPECT_EQ(plans[1].agent_id, "p2");
  EXPECT_EQ(plans[1].fix, MemberFix::kFence);
  EXPECT_EQ(plans[2].agent_id, "old");
  EXPECT_EQ(plans[2].fix, MemberFix::kFollow);
}

}  // namespace
}  // namespace noa::controller::failover
