// The per-service gauges of /metrics: set from the registry at each scrape, and series of
// services or aggregates that are gone are removed rather than left at their last value.

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <stdlib.h>

#include <filesystem>

#include "controller/ingest/controller_metrics.h"
#include "controller/runtime/controller_state.h"
#include "tests/testing/status_matchers.h"

namespace noa::controller {
namespace {

AgentRecord agent(const std::string& id, const std::string& service, Liveness liveness,
                  const std::string& role, std::vector<protocol::Metric> metrics,
                  std::map<std::string, std::string> attributes = {}) {
  AgentRecord a;
  a.hello.agent_id = id;
  a.hello.service = service;
  a.hello.kind = service == "web" ? "http" : service;
  a.liveness = liveness;
  a.has_report = true;
  a.last_report.health.state = "healthy";
  a.last_report.health.ready = true;
  a.last_report.role = role;
  a.last_report.metrics = std::move(metrics);
  a.last_report.attributes = std::move(attributes);
  return a;
}

std::string scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

bool has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(ServiceMetrics, SetsReplicasAggregatesAndReplicationPerService) {
  prometheus::Registry registry;
  ServiceMetrics metrics(registry);
  metrics.update(summarizeServices({
      agent("pg-1", "postgres", Liveness::kAlive, "primary",
            {{"cpu_usage_ratio_of_limit", 0.2}, {"memory_usage_ratio", 0.5}}, {{"lsn", "0/400"}}),
      agent("pg-2", "postgres", Liveness::kAlive, "replica",
            {{"cpu_usage_ratio_of_limit", 0.6}, {"memory_usage_ratio", 0.7}},
            {{"replay_lsn", "0/100"}}),
      agent("pg-3", "postgres", Liveness::kLost, "replica", {}),
      agent("web-1", "web", Liveness::kAlive, "", {{"http_requests_per_second", 12}}),
      agent("web-2", "web", Liveness::kAlive, "", {{"http_requests_per_second", 8}}),
  }));
  const std::string text = scrape(registry);
  EXPECT_TRUE(has(text, R"(noa_service_replicas{service="postgres",state="known"} 3)")) << text;
  EXPECT_TRUE(has(text, R"(noa_service_replicas{service="postgres",state="alive"} 2)"));
  EXPECT_TRUE(has(text, R"(noa_service_replicas{service="postgres",state="ready"} 2)"));
  EXPECT_TRUE(has(text, R"(noa_service_cpu_ratio_avg{service="postgres"} 0.4)")) << text;
  EXPECT_TRUE(has(text, R"(noa_service_cpu_ratio_max{service="postgres"} 0.6)"));
  EXPECT_TRUE(has(text, R"(noa_service_memory_ratio_max{service="postgres"} 0.7)"));
  EXPECT_TRUE(has(text, R"(noa_service_primaries{service="postgres"} 1)"));
  EXPECT_TRUE(has(text, R"(noa_service_replication_lag_bytes_max{service="postgres"} 768)"));
  EXPECT_TRUE(
      has(text, R"(noa_service_metric_summed{metric="http_requests_per_second",service="web"} 20)"))
      << text;
  EXPECT_TRUE(
      has(text, R"(noa_service_metric_avg{metric="http_requests_per_second",service="web"} 10)"));
  EXPECT_EQ(text.find(R"(noa_service_primaries{service="web"})"), std::string::npos)
      << "web is not replicated";
  EXPECT_EQ(text.find(R"(noa_service_memory_ratio_avg{service="web"})"), std::string::npos)
      << "no memory ratio reported, no series";
}

TEST(ServiceMetrics, SeriesOfVanishedServicesAndAggregatesAreRemoved) {
  prometheus::Registry registry;
  ServiceMetrics metrics(registry);
  metrics.update(summarizeServices({
      agent("pg-1", "postgres", Liveness::kAlive, "primary", {{"cpu_usage_cores", 0.5}}),
      agent("web-1", "web", Liveness::kAlive, "", {{"http_requests_per_second", 12}}),
  }));
  ASSERT_NE(scrape(registry).find(R"(service="web")"), std::string::npos);

  // web is gone; postgres's only member is lost, so it has no CPU aggregate any more.
  metrics.update(summarizeServices({
      agent("pg-1", "postgres", Liveness::kLost, "primary", {{"cpu_usage_cores", 0.5}}),
  }));
  const std::string text = scrape(registry);
  EXPECT_EQ(text.find(R"(service="web")"), std::string::npos) << text;
  EXPECT_EQ(text.find("noa_service_cpu_ratio_avg{"), std::string::npos) << text;
  EXPECT_TRUE(has(text, R"(noa_service_replicas{service="postgres",state="ready"} 0)")) << text;
  EXPECT_TRUE(has(text, R"(noa_service_primaries{service="postgres"} 0)")) << text;

  metrics.update({});
  EXPECT_EQ(scrape(registry).find("service="), std::string::npos);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/noa-svc-XXXXXX";
    if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ControllerState, EveryScrapeReflectsTheRegistryNow) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto store = Store::open(StoreOptions{dir.path() + "/store", true});
  ASSERT_OK(store.status());
  prometheus::Registry prom;
  Registry registry;
  ControllerState state(ControllerInfo{}, registry, **store, prom);
  const MonoTime now{};
  registry.put(agent("redis-1", "redis", Liveness::kAlive, "primary", {}), now);
  EXPECT_TRUE(has(state.metricsText(), R"(noa_service_replicas{service="redis",state="known"} 1)"));

  registry.put(agent("redis-2", "redis", Liveness::kAlive, "replica", {}), now);
  EXPECT_TRUE(has(state.metricsText(), R"(noa_service_replicas{service="redis",state="known"} 2)"));

  registry.load({}, now);
  EXPECT_EQ(state.metricsText().find(R"(service="redis")"), std::string::npos);
}

}  // namespace
}  // namespace noa::controller
