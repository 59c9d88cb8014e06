// Registry's copies: a snapshot without metrics keeps every other field (failover reads it
// several times a second, so it must be both cheap and complete).

#include "controller/registry/registry.h"

#include <gtest/gtest.h>

namespace noa::controller {
namespace {

AgentRecord fullRecord(const std::string& id, const std::string& kind) {
  AgentRecord r;
  r.hello.agent_id = id;
  r.hello.service = "db";
  r.hello.kind = kind;
  r.hello.capabilities = {"ping"};
  r.liveness = Liveness::kSuspect;
  r.registered_at_ms = 1;
  r.session_started_ms = 2;
  r.last_seen_ms = 3;
  r.liveness_changed_ms = 4;
  r.last_seq = 5;
  r.has_report = true;
  r.last_report.seq = 5;
  r.last_report.health.live = true;
  r.last_report.role = "primary";
  r.last_report.attributes["lsn"] = "0/3000060";
  for (int i = 0; i < 40; ++i) {
    protocol::Metric m;
    m.name = "metric_" + std::to_string(i);
    m.value = i;
    r.last_report.metrics.push_back(m);
  }
  r.last_report_ts_ms = 6;
  return r;
}

TEST(RegistryTest, SnapshotWithoutMetricsKeepsEveryOtherFieldOfTheKeptRecords) {
  Registry registry;
  registry.put(fullRecord("pg-1", "postgres"), MonoTime{});
  registry.put(fullRecord("web-1", "http"), MonoTime{});
  auto copies = registry.snapshotWithoutMetricsOfKinds({"postgres", "redis"});
  ASSERT_EQ(copies.size(), 1u);
  AgentRecord expected = fullRecord("pg-1", "postgres");
  expected.last_report.metrics.clear();
  EXPECT_EQ(copies[0], expected);
  EXPECT_EQ(registry.get("pg-1")->last_report.metrics.size(), 40u) << "the registry keeps them";
  EXPECT_EQ(registry.ids(), (std::vector<std::string>{"pg-1", "web-1"}));
}

TEST(RegistryTest, TheKindIndexFollowsPutsUpdatesAndLoads) {
  Registry registry;
  registry.put(fullRecord("a", "redis"), MonoTime{});
  registry.put(fullRecord("b", "http"), MonoTime{});
  registry.put(fullRecord("b", "redis"), MonoTime{});  // the same agent, now another kind
  auto kinds = [&](const char* kind) {
    std::vector<std::string> ids;
    for (const AgentRecord& r : registry.snapshotWithoutMetricsOfKinds({kind})) {
      ids.push_back(r.hello.agent_id);
    }
    return ids;
  };
  EXPECT_EQ(kinds("redis"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(kinds("http").empty());
  EXPECT_TRUE(registry.update("a", MonoTime{}, [](AgentRecord& r) {
    r.hello.kind = "postgres";
    return true;
  }));
  EXPECT_EQ(kinds("redis"), (std::vector<std::string>{"b"}));
  EXPECT_EQ(kinds("postgres"), (std::vector<std::string>{"a"}));
  EXPECT_FALSE(registry.update("nobody", MonoTime{}, [](AgentRecord&) { return true; }));
  registry.load({fullRecord("c", "http")}, MonoTime{});
  EXPECT_TRUE(kinds("redis").empty()) << "load replaces everything";
  EXPECT_EQ(kinds("http"), (std::vector<std::string>{"c"}));
}

}  // namespace
}  // namespace noa::controller
