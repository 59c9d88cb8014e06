#include "controller/api/agent_json.h"

#include <gtest/gtest.h>

#include "controller/api/services_handler.h"
#include "controller/api/time_param.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"

namespace noa::controller::api {
namespace {

using noa::testing::kT0;
using noa::testing::makeAgent;

TEST(AgentJson, CarriesRegistryFactsLivenessAndLatestReport) {
  const nlohmann::json j =
      agentJson(makeAgent("redis-1", "redis", "redis", Liveness::kSuspect, "healthy", "primary"));
  EXPECT_EQ(j["id"], "redis-1");
  EXPECT_EQ(j["service"], "redis");
  EXPECT_EQ(j["kind"], "redis");
  EXPECT_EQ(j["host"], "host-redis-1");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["capabilities"], nlohmann::json({"promote", "snapshot"}));
  EXPECT_EQ(j["state"], "suspect");
  EXPECT_EQ(j["last_seq"], 17u);
  EXPECT_TRUE(j["last_seq"].is_number_unsigned());
  EXPECT_EQ(j["role"], "primary");
  EXPECT_EQ(j["health"]["state"], "healthy");
  EXPECT_EQ(j["health"]["ready"], true);
  ASSERT_EQ(j["health"]["probes"].size(), 1u);
  EXPECT_EQ(j["health"]["probes"][0]["latency_us"], 830);
  EXPECT_EQ(j["health"]["probes"][0]["detail"], "PONG");
  EXPECT_DOUBLE_EQ(j["metrics"]["cpu_usage"].get<double>(), 0.25);
  EXPECT_EQ(j["attributes"]["redis_role"], "master");
  EXPECT_EQ(j["last_seen"], formatRfc3339(fromUnixMillis(kT0 - 2'000)));
  EXPECT_EQ(j["last_report_at"], formatRfc3339(fromUnixMillis(kT0 - 2'100)));
}

TEST(AgentJson, AgentWithoutReportHasUnknownHealthAndNoMetrics) {
  AgentRecord a = makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "");
  a.last_seen_ms = 0;
  const nlohmann::json j = agentJson(a);
  EXPECT_EQ(j["health"]["state"], "unknown");
  EXPECT_EQ(j["health"]["live"], false);
  EXPECT_TRUE(j["health"]["probes"].is_array());
  EXPECT_TRUE(j["metrics"].is_object());
  EXPECT_TRUE(j["metrics"].empty());
  EXPECT_TRUE(j["attributes"].empty());
  EXPECT_TRUE(j["last_seen"].is_null());
  EXPECT_TRUE(j["last_report_at"].is_null());
  EXPECT_EQ(j["last_seq"], 0u);
  EXPECT_EQ(j["role"], "");
}

TEST(AgentJson, DuplicateMetricKeepsLastValue) {
  const nlohmann::json j = metricsJson({{"rps", 1.0}, {"rps", 2.0}});
  EXPECT_DOUBLE_EQ(j["rps"].get<double>(), 2.0);
}

TEST(AgentJson, HistoryEntryHasTimestampSeqAndReport) {
  HistoryEntry e;
  e.ts_ms = kT0;
  e.seq = 9;
  e.report.seq = 9;
  e.report.health.state = "unhealthy";
  e.report.metrics = {{"x", 1}};
  const nlohmann::json j = historyEntryJson(e);
  EXPECT_EQ(j["ts"], formatRfc3339(fromUnixMillis(kT0)));
  EXPECT_EQ(j["seq"], 9u);
  EXPECT_EQ(j["report"]["seq"], 9u);
  EXPECT_EQ(j["report"]["health"]["state"], "unhealthy");
  EXPECT_EQ(j["report"]["metrics"]["x"], 1.0);
  EXPECT_TRUE(j["report"]["attributes"].is_object());
}

TEST(ServicesJson, GroupsByServiceAndCountsLivenessHealthAndReadiness) {
  std::vector<AgentRecord> agents = {
      makeAgent("pg-2", "postgres", "postgres", Liveness::kAlive, "healthy", "replica"),
      makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary"),
      makeAgent("pg-3", "postgres", "postgres", Liveness::kLost, "healthy", "replica"),
      makeAgent("redis-1", "redis", "redis", Liveness::kSuspect, "unhealthy"),
      makeAgent("redis-2", "redis", "generic", Liveness::kAlive, ""),
  };
  const nlohmann::json j = servicesJson(agents);
  ASSERT_EQ(j["services"].size(), 2u);
  const auto& pg = j["services"][0];
  EXPECT_EQ(pg["name"], "postgres");
  EXPECT_EQ(pg["kind"], "postgres");
  EXPECT_EQ(pg["agents"], 3);
  EXPECT_EQ(pg["alive"], 2);
  EXPECT_EQ(pg["lost"], 1);
  EXPECT_EQ(pg["healthy"], 2) << "a lost member's stale report must not count";
  EXPECT_EQ(pg["ready"], 2);
  ASSERT_EQ(pg["members"].size(), 3u);
  EXPECT_EQ(pg["members"][0]["id"], "pg-1");
  EXPECT_EQ(pg["members"][0]["role"], "primary");
  EXPECT_EQ(pg["members"][2]["state"], "lost");
  const auto& redis = j["services"][1];
  EXPECT_EQ(redis["name"], "redis");
  EXPECT_EQ(redis["kind"], "mixed");
  EXPECT_EQ(redis["suspect"], 1);
  EXPECT_EQ(redis["healthy"], 0);
  EXPECT_EQ(redis["members"][1]["health"], "unknown");
}

TEST(ServiceJson, RendersAggregatesMembersAndReplication) {
  AgentRecord primary =
      makeAgent("redis-1", "cache", "redis", Liveness::kAlive, "healthy", "primary");
  primary.last_report.metrics = {{"cpu_usage_ratio_of_limit", 0.5},
                                 {"memory_usage_ratio", 0.25},
                                 {"redis_commands_processed_per_second", 100}};
  primary.last_report.attributes = {{"master_repl_offset", "900"}};
  AgentRecord replica =
      makeAgent("redis-2", "cache", "redis", Liveness::kAlive, "healthy", "replica");
  replica.last_report.metrics = {{"cpu_usage_ratio_of_limit", 0.25},
                                 {"redis_commands_processed_per_second", 50}};
  replica.last_report.attributes = {{"master_repl_offset", "880"},
                                    {"replication_lag_seconds", "0.5"}};
  AgentRecord lost = makeAgent("redis-3", "cache", "redis", Liveness::kLost, "healthy", "replica");
  const nlohmann::json j = serviceJson(summarizeService({lost, replica, primary}));
  EXPECT_EQ(j["name"], "cache");
  EXPECT_EQ(j["agents"], 3);
  EXPECT_EQ(j["ready"], 2);
  EXPECT_EQ(j["counted"], 2);
  EXPECT_EQ(j["cpu_ratio"]["count"], 2);
  EXPECT_DOUBLE_EQ(j["cpu_ratio"]["avg"].get<double>(), 0.375);
  EXPECT_DOUBLE_EQ(j["cpu_ratio"]["max"].get<double>(), 0.5);
  EXPECT_EQ(j["memory_ratio"]["count"], 1);
  EXPECT_DOUBLE_EQ(j["metrics"]["redis_commands_processed_per_second"]["sum"].get<double>(), 150);
  EXPECT_EQ(j["replication"]["primary"], "redis-1");
  EXPECT_EQ(j["replication"]["primaries"], nlohmann::json({"redis-1"}));
  EXPECT_EQ(j["replication"]["replicas"], nlohmann::json({"redis-2"}));
  EXPECT_EQ(j["replication"]["max_lag_bytes"], 20);
  ASSERT_EQ(j["members"].size(), 3u);
  const auto& r2 = j["members"][1];
  EXPECT_EQ(r2["id"], "redis-2");
  EXPECT_EQ(r2["lag_bytes"], 20);
  EXPECT_EQ(r2["lag_seconds"], 0.5);
  EXPECT_EQ(r2["lag_source"], "computed");
  EXPECT_EQ(r2["counted"], true);
  const auto& r3 = j["members"][2];
  EXPECT_EQ(r3["state"], "lost");
  EXPECT_EQ(r3["ready"], false);
  EXPECT_TRUE(r3["cpu_ratio"].is_null());
  EXPECT_TRUE(r3["lag_bytes"].is_null());
  EXPECT_EQ(r3["lag_source"], "");
}

TEST(ServiceJson, EmptyAggregatesAreNullAndUnreplicatedServicesHaveNoReplication) {
  const nlohmann::json j =
      serviceJson(summarizeService({makeAgent("web-1", "web", "http", Liveness::kAlive, "")}));
  EXPECT_EQ(j["cpu_ratio"],
            nlohmann::json({{"count", 0}, {"sum", nullptr}, {"avg", nullptr}, {"max", nullptr}}));
  EXPECT_TRUE(j["metrics"].is_object());
  EXPECT_TRUE(j["metrics"].empty());
  EXPECT_TRUE(j["replication"].is_null());
}

TEST(TimeParam, ReadsRfc3339AndUnixMillis) {
  EXPECT_EQ(*parseTimestamp("0"), 0);
  EXPECT_EQ(*parseTimestamp("1790000000000"), 1'790'000'000'000);
  EXPECT_EQ(*parseTimestamp("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*parseTimestamp("1970-01-01T00:00:01.250Z"), 1250);
  EXPECT_EQ(*parseTimestamp("1970-01-01t00:00:01.2509z"), 1250);
  EXPECT_EQ(*parseTimestamp("1970-01-01T02:00:00+02:00"), 0);
  EXPECT_EQ(*parseTimestamp("1969-12-31T23:00:00-01:00"), 0);
  const int64_t now = 1'790'000'123'456;
  EXPECT_EQ(*parseTimestamp(formatRfc3339(fromUnixMillis(now))), now);
}

TEST(TimeParam, RejectsWhatIsNeitherForm) {
  for (const char* bad :
       {"", "yesterday", "-5", "1.5", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-01-01T24:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00Zjunk", "2026-01-01",
        "2026-01-01T00:00:00.Z", "99999999999999999999999"}) {
    EXPECT_FALSE(parseTimestamp(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace noa::controller::api
