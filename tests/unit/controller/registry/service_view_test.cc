#include "controller/registry/service_view.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace noa::controller {
namespace {

struct Spec {
  std::string id;
  std::string service = "postgres";
  std::string kind = "postgres";
  Liveness liveness = Liveness::kAlive;
  bool report = true;
  bool ready = true;
  std::string health = "healthy";
  std::string role;
  std::vector<protocol::Metric> metrics;
  std::map<std::string, std::string> attributes;
};

AgentRecord record(const Spec& s) {
  AgentRecord a;
  a.hello.agent_id = s.id;
  a.hello.service = s.service;
  a.hello.kind = s.kind;
  a.hello.host = "host-" + s.id;
  a.liveness = s.liveness;
  a.has_report = s.report;
  if (s.report) {
    a.last_report.health.state = s.health;
    a.last_report.health.ready = s.ready;
    a.last_report.health.live = true;
    a.last_report.role = s.role;
    a.last_report.metrics = s.metrics;
    a.last_report.attributes = s.attributes;
  }
  return a;
}

const MemberView& member(const ServiceView& view, const std::string& id) {
  for (const MemberView& m : view.members) {
    if (m.agent_id == id) return m;
  }
  ADD_FAILURE() << "no member " << id;
  static const MemberView kNone;
  return kNone;
}

TEST(ParseLsn, ReadsTwoHexHalves) {
  EXPECT_EQ(parseLsn("0/3000148"), 0x3000148u);
  EXPECT_EQ(parseLsn("1/0"), 1ull << 32);
  EXPECT_EQ(parseLsn("A/FF"), (10ull << 32) + 255);
  EXPECT_EQ(parseLsn("FFFFFFFF/FFFFFFFF"), 0xFFFFFFFFFFFFFFFFull);
  for (const char* bad : {"", "0", "/1", "1/", "x/1", "1/2/3", "100000000/0", "0/-1", " 0/1"}) {
    EXPECT_FALSE(parseLsn(bad).has_value()) << bad;
  }
}

TEST(SummarizeService, PostgresPrimaryAndLaggingReplicaWithComputedLag) {
  const ServiceView view = summarizeService({
      record({.id = "pg-2",
              .role = "replica",
              .metrics = {{"cpu_usage_ratio_of_limit", 0.5}, {"memory_usage_ratio", 0.25}},
              .attributes = {{"lsn", "0/3000000"}, {"replay_lsn", "0/3000000"}}}),
      record({.id = "pg-1",
              .role = "primary",
              .metrics = {{"cpu_usage_ratio_of_limit", 0.1}, {"memory_usage_ratio", 0.75}},
              .attributes = {{"lsn", "0/3000148"}}}),
  });
  EXPECT_EQ(view.name, "postgres");
  EXPECT_EQ(view.kind, "postgres");
  EXPECT_EQ(view.known, 2u);
  EXPECT_EQ(view.ready, 2u);
  EXPECT_EQ(view.counted, 2u);
  ASSERT_EQ(view.members.size(), 2u);
  EXPECT_EQ(view.members[0].agent_id, "pg-1") << "members sorted by id";
  EXPECT_EQ(view.cpu_ratio.count, 2u);
  EXPECT_DOUBLE_EQ(view.cpu_ratio.avg, 0.3);
  EXPECT_DOUBLE_EQ(view.cpu_ratio.max, 0.5);
  EXPECT_DOUBLE_EQ(view.memory_ratio.avg, 0.5);
  EXPECT_DOUBLE_EQ(view.memory_ratio.max, 0.75);

  ASSERT_TRUE(view.replication.has_value());
  EXPECT_EQ(view.replication->primary, "pg-1");
  EXPECT_EQ(view.replication->replicas, std::vector<std::string>{"pg-2"});
  const MemberView& replica = member(view, "pg-2");
  EXPECT_EQ(replica.lag_bytes, 0x148);
  EXPECT_EQ(replica.lag_source, LagSource::kComputed);
  EXPECT_FALSE(replica.lag_seconds.has_value());
  EXPECT_FALSE(member(view, "pg-1").lag_bytes.has_value()) << "a primary has no lag";
  EXPECT_EQ(view.replication->max_lag_bytes, 0x148);
}

TEST(SummarizeService, AgentsOwnLagAttributesWin) {
  const ServiceView view = summarizeService({
      record({.id = "pg-1", .role = "primary", .attributes = {{"lsn", "0/5000000"}}}),
      record({.id = "pg-2",
              .role = "replica",
              .attributes = {{"replay_lsn", "0/1000000"},
                             {"replication_lag_bytes", "77"},
                             {"replication_lag_seconds", "1.5"}}}),
  });
  const MemberView& replica = member(view, "pg-2");
  EXPECT_EQ(replica.lag_bytes, 77);
  EXPECT_EQ(replica.lag_seconds, 1.5);
  EXPECT_EQ(replica.lag_source, LagSource::kAgent);
}

TEST(SummarizeService, ReplicaAheadOfAnOlderPrimaryReportHasNoNegativeLag) {
  const ServiceView view = summarizeService({
      record({.id = "pg-1", .role = "primary", .attributes = {{"lsn", "0/100"}}}),
      record({.id = "pg-2", .role = "replica", .attributes = {{"replay_lsn", "0/200"}}}),
  });
  EXPECT_EQ(member(view, "pg-2").lag_bytes, 0);
}

TEST(SummarizeService, LostReplicaIsListedButNeverReadyCountedOrLagging) {
  const ServiceView view = summarizeService({
      record({.id = "pg-1",
              .role = "primary",
              .metrics = {{"cpu_usage_cores", 0.2}},
              .attributes = {{"lsn", "0/5000"}}}),
      record({.id = "pg-3",
              .liveness = Liveness::kLost,
              .role = "replica",
              .metrics = {{"cpu_usage_cores", 0.9}},
              .attributes = {{"replay_lsn", "0/1000"}}}),
  });
  EXPECT_EQ(view.known, 2u);
  EXPECT_EQ(view.lost, 1u);
  EXPECT_EQ(view.ready, 1u);
  EXPECT_EQ(view.healthy, 1u);
  EXPECT_EQ(view.cpu_ratio.count, 1u);
  EXPECT_DOUBLE_EQ(view.cpu_ratio.max, 0.2) << "the lost replica's stale CPU must not count";
  const MemberView& lost = member(view, "pg-3");
  EXPECT_EQ(lost.role, "replica");
  EXPECT_EQ(lost.health, "healthy");
  EXPECT_FALSE(lost.ready);
  EXPECT_FALSE(lost.cpu_ratio.has_value());
  EXPECT_FALSE(lost.lag_bytes.has_value());
  EXPECT_TRUE(view.replication->replicas.empty());
  EXPECT_FALSE(view.replication->max_lag_bytes.has_value());
}

TEST(SummarizeService, LostPrimaryLeavesNoPrimaryAndNoComputedLag) {
  const ServiceView view = summarizeService({
      record({.id = "pg-1",
              .liveness = Liveness::kLost,
              .role = "primary",
              .attributes = {{"lsn", "0/5000"}}}),
      record({.id = "pg-2", .role = "replica", .attributes = {{"replay_lsn", "0/1000"}}}),
  });
  EXPECT_FALSE(view.replication->primary.has_value());
  EXPECT_TRUE(view.replication->primaries.empty());
  EXPECT_FALSE(member(view, "pg-2").lag_bytes.has_value());
}

TEST(SummarizeService, TwoPrimariesAreBothNamedAndNoneIsChosen) {
  const ServiceView view = summarizeService({
      record({.id = "pg-1", .role = "primary", .attributes = {{"lsn", "0/5000"}}}),
      record({.id = "pg-2", .role = "primary", .attributes = {{"lsn", "0/4000"}}}),
      record({.id = "pg-3", .role = "replica", .attributes = {{"replay_lsn", "0/1000"}}}),
  });
  EXPECT_FALSE(view.replication->primary.has_value());
  EXPECT_EQ(view.replication->primaries, (std::vector<std::string>{"pg-1", "pg-2"}));
  EXPECT_FALSE(member(view, "pg-3").lag_bytes.has_value());
}

TEST(SummarizeService, SuspectAndUnreadyMembersAreNotInAggregates) {
  const ServiceView view = summarizeService({
      record({.id = "a", .kind = "http", .metrics = {{"http_requests_per_second", 10}}}),
      record({.id = "b",
              .kind = "http",
              .liveness = Liveness::kSuspect,
              .metrics = {{"http_requests_per_second", 20}}}),
      record({.id = "c",
              .kind = "http",
              .ready = false,
              .health = "unhealthy",
              .metrics = {{"http_requests_per_second", 40}}}),
  });
  EXPECT_EQ(view.alive, 2u);
  EXPECT_EQ(view.suspect, 1u);
  EXPECT_EQ(view.ready, 2u) << "suspect still counts as ready, like the services list";
  EXPECT_EQ(view.counted, 1u);
  EXPECT_TRUE(member(view, "b").ready);
  EXPECT_FALSE(member(view, "b").counted);
  const Aggregate& rps = view.metrics.at("http_requests_per_second");
  EXPECT_EQ(rps.count, 1u);
  EXPECT_DOUBLE_EQ(rps.sum, 10);
  EXPECT_FALSE(view.replication.has_value()) << "http without roles is not replicated";
}

TEST(SummarizeService, NoReportsAndNoMetrics) {
  const ServiceView view = summarizeService({
      record({.id = "pg-1", .report = false}),
      record({.id = "pg-2"}),
  });
  EXPECT_EQ(view.known, 2u);
  EXPECT_EQ(view.ready, 1u);
  EXPECT_EQ(view.healthy, 1u);
  EXPECT_EQ(member(view, "pg-1").health, "unknown");
  EXPECT_FALSE(member(view, "pg-1").ready);
  EXPECT_EQ(view.cpu_ratio.count, 0u);
  EXPECT_EQ(view.memory_ratio.count, 0u);
  EXPECT_TRUE(view.metrics.empty());
  EXPECT_FALSE(member(view, "pg-2").cpu_ratio.has_value());
  ASSERT_TRUE(view.replication.has_value()) << "postgres always has a replication view";
  EXPECT_FALSE(view.replication->primary.has_value());
}

TEST(SummarizeService, CpuPrefersRatioOfLimitAndMemoryNeedsALimit) {
  const ServiceView view = summarizeService({
      record({.id = "a",
              .kind = "generic",
              .metrics = {{"cpu_usage_cores", 1.5}, {"cpu_usage_ratio_of_limit", 0.75}}}),
      record({.id = "b",
              .kind = "generic",
              .metrics = {{"cpu_usage_cores", 0.25}, {"memory_bytes", 100}}}),
      record({.id = "c",
              .kind = "generic",
              .metrics = {{"memory_bytes", 100}, {"memory_limit_bytes", 400}}}),
  });
  EXPECT_EQ(member(view, "a").cpu_ratio, 0.75);
  EXPECT_EQ(member(view, "b").cpu_ratio, 0.25);
  EXPECT_FALSE(member(view, "b").memory_ratio.has_value()) << "no limit, no percentage";
  EXPECT_EQ(member(view, "c").memory_ratio, 0.25);
  EXPECT_EQ(view.cpu_ratio.count, 2u);
  EXPECT_DOUBLE_EQ(view.cpu_ratio.avg, 0.5);
  EXPECT_EQ(view.memory_ratio.count, 1u);
  EXPECT_DOUBLE_EQ(view.metrics.at("memory_bytes").sum, 200);
  EXPECT_DOUBLE_EQ(view.metrics.at("memory_bytes").avg, 100);
}

TEST(SummarizeService, NonFiniteValuesAndDuplicatesAreHandled) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const ServiceView view = summarizeService({
      record({.id = "a",
              .kind = "generic",
              .metrics = {{"x", 1}, {"x", 3}, {"cpu_usage_cores", nan}, {"y", INFINITY}}}),
  });
  EXPECT_DOUBLE_EQ(view.metrics.at("x").sum, 3) << "the last value of a name wins";
  EXPECT_EQ(view.metrics.count("y"), 0u);
  EXPECT_EQ(view.cpu_ratio.count, 0u);
}

TEST(SummarizeService, RedisLagFromReplicationOffsets) {
  const ServiceView view = summarizeService({
      record({.id = "redis-1",
              .service = "cache",
              .kind = "redis",
              .role = "primary",
              .attributes = {{"master_repl_offset", "5000"}, {"connected_slaves", "2"}}}),
      record({.id = "redis-2",
              .service = "cache",
              .kind = "redis",
              .role = "replica",
              .attributes = {{"master_repl_offset", "4200"}, {"master_link_status", "up"}}}),
      record({.id = "redis-3",
              .service = "cache",
              .kind = "redis",
              .role = "replica",
              .attributes = {{"master_repl_offset", "4000"}, {"slave_repl_offset", "4900"}}}),
      record({.id = "redis-4",
              .service = "cache",
              .kind = "redis",
              .role = "replica",
              .attributes = {{"master_repl_offset", "garbage"}}}),
  });
  EXPECT_EQ(view.replication->primary, "redis-1");
  EXPECT_EQ(member(view, "redis-2").lag_bytes, 800);
  EXPECT_EQ(member(view, "redis-3").lag_bytes, 100) << "slave_repl_offset is preferred";
  EXPECT_FALSE(member(view, "redis-4").lag_bytes.has_value());
  EXPECT_EQ(view.replication->max_lag_bytes, 800);
  EXPECT_EQ(view.replication->replicas.size(), 3u);
}

TEST(SummarizeServices, GroupsByNameSortedAndMixedKind) {
  const std::vector<ServiceView> views = summarizeServices({
      record({.id = "r1", .service = "redis", .kind = "redis"}),
      record({.id = "p1"}),
      record({.id = "r2", .service = "redis", .kind = "generic"}),
  });
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0].name, "postgres");
  EXPECT_EQ(views[1].name, "redis");
  EXPECT_EQ(views[1].kind, "mixed");
  EXPECT_EQ(views[1].known, 2u);
  EXPECT_TRUE(summarizeServices({}).empty());
  EXPECT_EQ(summarizeService({}).known, 0u);
}

}  // namespace
}  // namespace noa::controller
