#include "controller/cli/tables.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace noa::cli {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1'790'000'000'000;

std::string ts(int64_t ms) { return formatRfc3339(fromUnixMillis(ms)); }

json agent(const std::string& id, const std::string& state, const std::string& health,
           const std::string& role, int64_t seen_ms, uint64_t seq) {
  return {{"id", id},
          {"service", "redis"},
          {"kind", "redis"},
          {"host", "h-" + id},
          {"agent_version", "0.1.0"},
          {"pid", 42},
          {"capabilities", json::array({"promote"})},
          {"report_interval_ms", 1000},
          {"state", state},
          {"state_since", ts(kNow - 60'000)},
          {"registered_at", ts(kNow - 3'600'000)},
          {"session_started_at", nullptr},
          {"last_seen", seen_ms == 0 ? json(nullptr) : json(ts(seen_ms))},
          {"last_seq", seq},
          {"role", role},
          {"health",
           {{"state", health},
            {"live", true},
            {"ready", false},
            {"started", true},
            {"probes", json::array({{{"name", "ping"},
                                     {"kind", "liveness"},
                                     {"state", "success"},
                                     {"consecutive_successes", 3},
                                     {"consecutive_failures", 0},
                                     {"latency_us", 250},
                                     {"detail", "PONG"}}})}}},
          {"metrics", {{"cpu", 0.5}}},
          {"attributes", {{"redis_role", "master"}}},
          {"last_report_at", ts(seen_ms)}};
}

TEST(Tables, ColumnsAlignWithoutTrailingSpaces) {
  EXPECT_EQ(renderTable({"A", "LONG-HEADER", "C"}, {{"xxxx", "y", ""}, {"z", "", "last"}}),
            "A     LONG-HEADER  C\n"
            "xxxx  y\n"
            "z                  last\n");
}

TEST(Tables, KeyValuesAlign) {
  EXPECT_EQ(renderKeyValues({{"id", "a"}, {"last seen", "b"}}),
            "id:         a\n"
            "last seen:  b\n");
}

TEST(Tables, AgesAreRelativeToNow) {
  EXPECT_EQ(formatAge(ts(kNow - 2'500), kNow), "2s ago");
  EXPECT_EQ(formatAge(ts(kNow - 300'000), kNow), "5m ago");
  EXPECT_EQ(formatAge(ts(kNow - 7'200'000), kNow), "2h ago");
  EXPECT_EQ(formatAge(ts(kNow - 3 * 86'400'000LL), kNow), "3d ago");
  EXPECT_EQ(formatAge(ts(kNow + 5'000), kNow), "0s ago");  // clock skew
  EXPECT_EQ(formatAge(nullptr, kNow), "-");
  EXPECT_EQ(formatAge("not a time", kNow), "not a time");
}

TEST(Tables, AgentsTable) {
  const json body = {
      {"agents", json::array({agent("redis-1", "alive", "healthy", "primary", kNow - 1'000, 42),
                              agent("redis-2", "lost", "unknown", "", 0, 0)})}};
  auto text = renderAgents(body, kNow);
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_EQ(*text,
            "ID       SERVICE  KIND   STATE  HEALTH   ROLE     LAST-SEEN  SEQ\n"
            "redis-1  redis    redis  alive  healthy  primary  1s ago     42\n"
            "redis-2  redis    redis  lost   unknown  -        -          0\n");
  EXPECT_EQ(*renderAgents({{"agents", json::array()}}, kNow), "no agents\n");
}

TEST(Tables, AgentDetailHasKeyValuesProbesMetricsAndAttributes) {
  auto text = renderAgent(agent("redis-1", "alive", "healthy", "primary", kNow - 1'000, 42), kNow);
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_NE(text->find("id:               redis-1\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("health:           healthy (live yes, ready no, started yes)"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("last seen:        " + ts(kNow - 1'000) + " (1s ago)"), std::string::npos)
      << *text;
  EXPECT_NE(text->find("session started:  -\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("capabilities:     promote\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("PROBE  KIND      STATE    OK  FAIL  LATENCY  DETAIL\n"
                       "ping   liveness  success  3   0     250us    PONG\n"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("METRIC  VALUE\ncpu     0.5\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("redis_role  master"), std::string::npos) << *text;
}

TEST(Tables, StatusLines) {
  const json health = {
      {"status", "degraded"},
      {"version", "0.1.0"},
      {"controller_id", "ctl-1"},
      {"started_at", ts(kNow - 7'200'000)},
      {"uptime_s", 7200},
      {"store", {{"status", "error"}, {"error", "IoError: disk full"}}},
      {"agents", {{"total", 3}, {"alive", 1}, {"suspect", 1}, {"lost", 1}}},
      {"liveness",
       {{"report_interval_ms", 1000}, {"suspect_after_intervals", 3}, {"lost_after_intervals", 5}}},
      {"agent_endpoint", "tcp://0.0.0.0:7701"}};
  auto text = renderStatus(health, kNow);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("status:          degraded\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("controller:      ctl-1 (version 0.1.0)\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("(2h ago), up 2h\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("store:           error: IoError: disk full\n"), std::string::npos);
  EXPECT_NE(text->find("agents:          3 total, 1 alive, 1 suspect, 1 lost\n"),
            std::string::npos);
  EXPECT_NE(text->find("agent endpoint:  tcp://0.0.0.0:7701\n"), std::string::npos);
}

TEST(Tables, ServicesAndHistory) {
  const json services = {
      {"services",
       json::array({{{"name", "redis"},
                     {"kind", "redis"},
                     {"agents", 2},
                     {"alive", 2},
                     {"suspect", 0},
                     {"lost", 0},
                     {"healthy", 1},
                     {"ready", 1},
                     {"members", json::array({{{"id", "redis-1"}}, {{"id", "redis-2"}}})}}})}};
  EXPECT_EQ(*renderServices(services),
            "NAME   KIND   AGENTS  ALIVE  SUSPECT  LOST  HEALTHY  READY  MEMBERS\n"
            "redis  redis  2       2      0        0     1        1      redis-1,redis-2\n");

  const json history = {
      {"agent", "redis-1"},
      {"entries",
       json::array({{{"ts", ts(kNow)},
                     {"seq", 7},
                     {"report",
                      {{"seq", 7},
                       {"role", "replica"},
                       {"health", {{"state", "healthy"}, {"live", true}, {"ready", true}}}}}}})}};
  EXPECT_EQ(*renderHistory(history), "TIME                      SEQ  HEALTH   LIVE  READY  ROLE\n" +
                                         ts(kNow) + "  7    healthy  yes   yes    replica\n");
  EXPECT_EQ(*renderHistory({{"agent", "x"}, {"entries", json::array()}}),
            "no history for agent x\n");
}

json serviceMember(const std::string& id, const std::string& role, const std::string& state,
                   const json& lag_bytes, const json& lag_seconds) {
  return {{"id", id},
          {"host", "h-" + id},
          {"role", role},
          {"state", state},
          {"health", "healthy"},
          {"kind", "postgres"},
          {"ready", true},
          {"counted", true},
          {"cpu_ratio", 0.1},
          {"memory_ratio", nullptr},
          {"lag_bytes", lag_bytes},
          {"lag_seconds", lag_seconds},
          {"lag_source", lag_bytes.is_null() ? "" : "computed"}};
}

json aggregate(size_t count, double sum, double avg, double max) {
  if (count == 0) return {{"count", 0}, {"sum", nullptr}, {"avg", nullptr}, {"max", nullptr}};
  return {{"count", count}, {"sum", sum}, {"avg", avg}, {"max", max}};
}

json service(const std::string& name, json replication, json metrics) {
  return {{"name", name},
          {"kind", "postgres"},
          {"agents", 3},
          {"alive", 2},
          {"suspect", 0},
          {"lost", 1},
          {"healthy", 2},
          {"ready", 2},
          {"counted", 2},
          {"cpu_ratio", aggregate(2, 0.5, 0.25, 0.4)},
          {"memory_ratio", aggregate(0, 0, 0, 0)},
          {"metrics", std::move(metrics)},
          {"replication", std::move(replication)},
          {"members", json::array({serviceMember("pg-1", "primary", "alive", nullptr, nullptr),
                                   serviceMember("pg-2", "replica", "alive", 4608, 1.5),
                                   serviceMember("pg-3", "replica", "lost", nullptr, nullptr)})}};
}

TEST(Tables, ServiceLikePatronictlList) {
  const json replication = {{"primary", "pg-1"},
                            {"primaries", json::array({"pg-1"})},
                            {"replicas", json::array({"pg-2"})},
                            {"max_lag_bytes", 4608}};
  auto text = renderService(
      service("postgres", replication, {{"pg_xact_commit_per_second", aggregate(2, 30, 15, 20)}}));
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_EQ(*text,
            "service:   postgres (kind postgres)\n"
            "replicas:  3 known, 2 alive, 0 suspect, 1 lost; 2 ready, 2 healthy\n"
            "primary:   pg-1\n"
            "max lag:   4.5 KiB\n"
            "cpu:       avg 25.0%, max 40.0% over 2 replicas\n"
            "memory:    -\n"
            "\n"
            "MEMBER  HOST    ROLE     STATE  HEALTH   LAG\n"
            "pg-1    h-pg-1  primary  alive  healthy  -\n"
            "pg-2    h-pg-2  replica  alive  healthy  4.5 KiB (1.5s)\n"
            "pg-3    h-pg-3  replica  lost   healthy  -\n"
            "\n"
            "METRIC                     SUM  AVG  MAX  REPLICAS\n"
            "pg_xact_commit_per_second  30   15   20   2\n");

  const json conflict = {{"primary", nullptr},
                         {"primaries", json::array({"pg-1", "pg-2"})},
                         {"replicas", json::array()},
                         {"max_lag_bytes", nullptr}};
  auto split = renderService(service("postgres", conflict, json::object()));
  ASSERT_TRUE(split.ok());
  EXPECT_NE(split->find("primary:   conflict: pg-1 pg-2\n"), std::string::npos) << *split;
  EXPECT_EQ(split->find("METRIC"), std::string::npos) << "no metrics, no metrics table";

  const json none = {{"primary", nullptr},
                     {"primaries", json::array()},
                     {"replicas", json::array()},
                     {"max_lag_bytes", nullptr}};
  EXPECT_NE(renderService(service("postgres", none, json::object()))->find("primary:   none\n"),
            std::string::npos);
  auto web = renderService(service("web", nullptr, json::object()));
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(web->find("primary:"), std::string::npos) << "not replicated: no primary line";
}

TEST(Tables, TopSumsRequestsAndListsOtherRates) {
  const json services = {
      {"services",
       json::array({service("web", nullptr,
                            {{"http_requests_per_second", aggregate(2, 1500, 750, 900)},
                             {"grpc_requests_per_second", aggregate(1, 0.5, 0.5, 0.5)},
                             {"http_bytes_sent_per_second", aggregate(2, 2.5e6, 1.25e6, 2e6)},
                             {"cache_hits_per_second", aggregate(2, 12, 6, 7)},
                             {"memory_bytes", aggregate(2, 100, 50, 60)}}),
                    service("db", nullptr, json::object())})}};
  auto text = renderTop(services);
  ASSERT_TRUE(text.ok()) << text.status().toString();
  EXPECT_EQ(*text,
            "SERVICE  REPLICAS  READY  CPU(AVG/MAX)  MEM(AVG/MAX)  RPS     RATES\n"
            "web      3         2      25.0%/40.0%   -             1500.5  "
            "cache_hits=12/s http_bytes_sent=2.5M/s\n"
            "db       3         2      25.0%/40.0%   -             -       -\n");
  EXPECT_EQ(*renderTop({{"services", json::array()}}), "no services\n");
}

TEST(Tables, NumbersBytesAndPercents) {
  EXPECT_EQ(formatNumber(12), "12");
  EXPECT_EQ(formatNumber(0.25), "0.25");
  EXPECT_EQ(formatNumber(0.1), "0.1");
  EXPECT_EQ(formatNumber(123.45), "123.5");
  EXPECT_EQ(formatNumber(15000), "15.0k");
  EXPECT_EQ(formatNumber(3.2e6), "3.2M");
  EXPECT_EQ(formatNumber(nullptr), "-");
  EXPECT_EQ(formatBytes(0), "0 B");
  EXPECT_EQ(formatBytes(1023), "1023 B");
  EXPECT_EQ(formatBytes(1536), "1.5 KiB");
  EXPECT_EQ(formatBytes(3 * 1024 * 1024), "3.0 MiB");
  EXPECT_EQ(formatBytes(nullptr), "-");
  EXPECT_EQ(formatPercent(0.125), "12.5%");
  EXPECT_EQ(formatPercent("x"), "-");
}

TEST(Tables, MetricSeries) {
  const json series = {{"agent", "redis-1"},
                       {"name", "cpu_usage_cores"},
                       {"points", json::array({{{"ts", ts(kNow)}, {"value", 0.25}},
                                               {{"ts", ts(kNow + 1000)}, {"value", 1.0}}})}};
  EXPECT_EQ(*renderMetricSeries(series), "TIME                      VALUE\n" + ts(kNow) +
                                             "  0.25\n" + ts(kNow + 1000) + "  1.0\n");
  EXPECT_EQ(*renderMetricSeries({{"agent", "a"}, {"name", "x"}, {"points", json::array()}}),
            "no values of x for agent a\n");
}

TEST(Tables, WrongShapesAreErrorsNotCrashes) {
  EXPECT_FALSE(renderAgents(json::array(), kNow).ok());
  EXPECT_FALSE(renderAgents({{"agents", 5}}, kNow).ok());
  EXPECT_FALSE(renderServices("text").ok());
  EXPECT_FALSE(renderHistory({{"entries", nullptr}}).ok());
  EXPECT_FALSE(renderStatus(json::array(), kNow).ok());
  EXPECT_FALSE(renderAgent(42, kNow).ok());
  EXPECT_FALSE(renderService(json::array()).ok());
  EXPECT_FALSE(renderService({{"members", 3}}).ok());
  EXPECT_FALSE(renderTop({{"services", "x"}}).ok());
  EXPECT_FALSE(renderMetricSeries({{"points", nullptr}}).ok());
  // Odd aggregates inside a good shape still render.
  EXPECT_TRUE(renderTop({{"services", json::array({{{"metrics", {{"a_per_second", 5}}}}})}}).ok());
  // Odd values inside a good shape still render.
  auto text = renderAgents({{"agents", json::array({{{"id", 5}, {"health", "x"}}, 7})}}, kNow);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("5 "), std::string::npos);
}

}  // namespace
}  // namespace noa::cli
