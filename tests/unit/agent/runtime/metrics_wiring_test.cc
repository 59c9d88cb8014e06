// The agent's metrics reach its reports: flags -> MetricsConfig, the worker thread that collects
// once per interval, and the report source that copies the latest collection.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "agent/runtime/agent_config.h"
#include "agent/runtime/metrics_worker.h"
#include "agent/runtime/probe_report_source.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent {
namespace {

// About metrics sources, not the channel: plaintext spares these tests a controller key.
Status parse(std::vector<const char*> args, AgentConfig& config) {
  args.insert(args.begin(),
              {"noa-agent", "--agent-id", "a1", "--service", "s", "--insecure-plaintext"});
  return parseAgentConfig(static_cast<int>(args.size()), args.data(), config);
}

TEST(AgentConfigMetricsFlags, ParsesSourcesAllowlistAndTimeout) {
  AgentConfig config;
  ASSERT_OK(parse({"--service-pidfile", "/run/x.pid", "--metrics-url", "http://127.0.0.1:9/metrics",
                   "--metrics-allow", "http_requests_total,pg_*,", "--metrics-timeout", "500ms"},
                  config));
  EXPECT_EQ(config.service_pidfile, "/run/x.pid");
  EXPECT_EQ(config.metrics_url, "http://127.0.0.1:9/metrics");
  EXPECT_EQ(config.metrics_allow, (std::vector<std::string>{"http_requests_total", "pg_*"}));
  EXPECT_EQ(config.metrics_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(toJson(config)["metrics_allow"].size(), 2u);
}

TEST(AgentConfigMetricsFlags, PidAndPidfileExcludeEachOther) {
  AgentConfig config;
  Status s = parse({"--service-pid", "42", "--service-pidfile", "/run/x.pid"}, config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--service-pid"), std::string::npos) << s.message();
}

TEST(ProbeReportSource, CopiesTheLatestMetricsAndNamesDegradedSources) {
  MetricsSnapshot snapshot;
  snapshot.collection.metrics = {{"cpu_usage_cores", 0.5}, {"memory_bytes", 1024}};
  snapshot.collection.degraded = {{"prometheus", "http://127.0.0.1:9/metrics: connection refused"}};
  ProbeReportSource source([] { return ProbeSnapshot{}; }, [&] { return snapshot; });
  protocol::Report report;
  source.fill(report);
  ASSERT_EQ(report.metrics.size(), 2u);
  EXPECT_EQ(report.metrics[1].name, "memory_bytes");
  EXPECT_EQ(report.attributes["metrics_degraded"],
            "prometheus: http://127.0.0.1:9/metrics: connection refused");

  snapshot.collection.degraded.clear();
  protocol::Report healthy;
  source.fill(healthy);
  EXPECT_EQ(healthy.attributes.count("metrics_degraded"), 0u);
}

TEST(MetricsWorker, CollectsOnItsOwnThreadAndStopsPromptly) {
  MetricsConfig config;
  config.pid = ::getpid();
  auto collector = MetricsCollector::create(config, systemClock());
  ASSERT_OK(collector);
  MetricsWorker worker(std::move(collector).value(), std::chrono::seconds(30));
  worker.start();
  // The first collection happens at once; the interval only paces the next ones.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool seen = false;
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : worker.latest().collection.metrics) seen |= m.name == "memory_bytes";
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(seen);
  const auto stop_started = std::chrono::steady_clock::now();
  worker.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(5));
}

TEST(MetricsWorker, WithoutSourcesStartsNoThreadAndReportsNothing) {
  auto collector = MetricsCollector::create(MetricsConfig{}, systemClock());
  ASSERT_OK(collector);
  MetricsWorker worker(std::move(collector).value(), std::chrono::seconds(1));
  worker.start();
  EXPECT_TRUE(worker.latest().collection.metrics.empty());
  worker.stop();
}

}  // namespace
}  // namespace noa::agent
