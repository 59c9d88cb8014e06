#include "agent/collectors/metrics_collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/collectors/fixtures.h"

namespace noa::agent {
namespace {

using noa::testing::collectorFixture;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Pair;

std::map<std::string, double> asMap(const Collection& c) {
  std::map<std::string, double> out;
  for (const auto& m : c.metrics) out[m.name] = m.value;
  return out;
}

MetricsConfig fixtureConfig() {
  MetricsConfig config;
  config.cgroup_options.host_cpus = 8;
  config.proc_options.proc_root = collectorFixture("proc");
  config.proc_options.ticks_per_second = 100;
  return config;
}

TEST(MetricsCollector, RefusesConflictingOrInvalidConfig) {
  noa::testing::FakeClock clock;
  MetricsConfig both = fixtureConfig();
  both.pid = 100;
  both.pidfile = "/run/x.pid";
  EXPECT_EQ(MetricsCollector::create(both, clock).status().code(), StatusCode::kInvalidArgument);

  MetricsConfig bad_url = fixtureConfig();
  bad_url.prometheus.url = "ftp://host/metrics";
  EXPECT_EQ(MetricsCollector::create(bad_url, clock).status().code(), StatusCode::kInvalidArgument);
  bad_url.prometheus.url = "http:///metrics";
  EXPECT_FALSE(MetricsCollector::create(bad_url, clock).ok());
  bad_url.prometheus.url = "127.0.0.1:9100";
  EXPECT_FALSE(MetricsCollector::create(bad_url, clock).ok());

  MetricsConfig zero_timeout = fixtureConfig();
  zero_timeout.prometheus.url = "http://127.0.0.1:9/metrics";
  zero_timeout.prometheus.timeout = Millis(0);
  EXPECT_FALSE(MetricsCollector::create(zero_timeout, clock).ok());
}

TEST(MetricsCollector, NoSourcesCollectsNothing) {
  noa::testing::FakeClock clock;
  auto collector = MetricsCollector::create(fixtureConfig(), clock);
  ASSERT_OK(collector);
  EXPECT_FALSE((*collector)->hasSources());
  EXPECT_EQ((*collector)->prometheusStats(), nullptr);
  const Collection c = (*collector)->collect();
  EXPECT_THAT(c.metrics, IsEmpty());
  EXPECT_THAT(c.degraded, IsEmpty());
  EXPECT_EQ(c.degradedSummary(), "");
}

TEST(MetricsCollector, CgroupTakesPrecedenceOverThePid) {
  noa::testing::FakeClock clock;
  MetricsConfig config = fixtureConfig();
  config.cgroup_dir = collectorFixture("cgroup/limited");
  config.pid = 100;
  auto collector = MetricsCollector::create(config, clock);
  ASSERT_OK(collector);
  const Collection c = (*collector)->collect();
  EXPECT_THAT(c.degraded, IsEmpty());
  EXPECT_THAT(asMap(c),
              ElementsAre(Key("cpu_limit_cores"), Key("memory_bytes"), Key("memory_limit_bytes"),
                          Key("memory_usage_ratio"), Key("memory_working_set_bytes")));
}

TEST(MetricsCollector, ProcessTreeWhenNoCgroup) {
  noa::testing::FakeClock clock;
  MetricsConfig config = fixtureConfig();
  config.pidfile = collectorFixture("proc/postgres.pid");
  auto collector = MetricsCollector::create(config, clock);
  ASSERT_OK(collector);
  EXPECT_TRUE((*collector)->hasSources());
  EXPECT_THAT(asMap((*collector)->collect()),
              ElementsAre(Pair("memory_bytes", 14336.0 * 1024), Pair("process_count", 4.0)));
}

TEST(MetricsCollector, DegradedSourcesAreNamedAndSummarised) {
  noa::testing::FakeClock clock;
  MetricsConfig config = fixtureConfig();
  config.cgroup_dir = collectorFixture("cgroup/no_memory_max");
  // Nothing listens on port 1; the connection is refused at once.
  config.prometheus.url = "http://127.0.0.1:1/metrics";
  config.prometheus.timeout = Millis(200);
  auto collector = MetricsCollector::create(config, clock);
  ASSERT_OK(collector);
  const Collection c = (*collector)->collect();
  EXPECT_THAT(c.degraded, ElementsAre(Key("cgroup"), Key("prometheus")));
  EXPECT_EQ(c.degraded.at("cgroup"),
            collectorFixture("cgroup/no_memory_max") + "/memory.max: not found");
  EXPECT_THAT(c.degraded.at("prometheus"), ::testing::StartsWith("http://127.0.0.1:1/metrics: "));
  EXPECT_EQ(c.degradedSummary(),
            "cgroup: " + c.degraded.at("cgroup") + "; prometheus: " + c.degraded.at("prometheus"));
  EXPECT_THAT(asMap(c), ElementsAre(Key("cpu_limit_cores"), Key("memory_bytes")));
  ASSERT_NE((*collector)->prometheusStats(), nullptr);
  EXPECT_EQ((*collector)->prometheusStats()->failures, 1u);
}

}  // namespace
}  // namespace noa::agent
