#include "agent/probes/probe_spec.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

ProbeSpec valid() {
  ProbeSpec s;
  s.name = "ready";
  s.type = ProbeType::kReadiness;
  s.handler = TcpSocket{"127.0.0.1", 5432};
  return s;
}

TEST(ProbeSpecValidate, KubernetesDefaultsAreValid) {
  ProbeSpec s = valid();
  EXPECT_EQ(s.period, 10s);
  EXPECT_EQ(s.timeout, 1s);
  EXPECT_EQ(s.success_threshold, 1u);
  EXPECT_EQ(s.failure_threshold, 3u);
  EXPECT_OK(validate(s));
}

TEST(ProbeSpecValidate, AllowsTheAgentsSubSecondFloors) {
  ProbeSpec s = valid();
  s.period = 100ms;
  s.timeout = 50ms;
  EXPECT_OK(validate(s));
  s.period = 200ms;
  s.timeout = 500ms;  // longer than the period is allowed (ticks are skipped)
  EXPECT_OK(validate(s));
}

TEST(ProbeSpecValidate, MessagesNameTheProbeAndTheField) {
  struct Case {
    void (*mutate)(ProbeSpec&);
    std::string expected;
  };
  const std::vector<Case> cases = {
      {[](ProbeSpec& s) { s.period = 99ms; }, "probe 'ready': period_ms must be >= 100 (got 99)"},
      {[](ProbeSpec& s) { s.timeout = 49ms; }, "probe 'ready': timeout_ms must be >= 50 (got 49)"},
      {[](ProbeSpec& s) { s.timeout = 0ms; }, "timeout_ms must be >= 50 (got 0)"},
      {[](ProbeSpec& s) { s.initial_delay = -1ms; }, "initial_delay_ms must be >= 0 (got -1)"},
      {[](ProbeSpec& s) { s.failure_threshold = 0; }, "failure_threshold must be >= 1"},
      {[](ProbeSpec& s) { s.success_threshold = 0; }, "success_threshold must be >= 1"},
      {[](ProbeSpec& s) {
         s.type = ProbeType::kLiveness;
         s.success_threshold = 2;
       },
       "success_threshold must be 1 for liveness probes (got 2)"},
      {[](ProbeSpec& s) {
         s.handler = TcpSocket{"127.0.0.1", 0};
       },
       "tcp.port must be 1..65535 (got 0)"},
      {[](ProbeSpec& s) {
         s.handler = HttpGet{"h", 80, "health", "http", {}};
       },
       "http.path must start with '/'"},
      {[](ProbeSpec& s) { s.handler = Exec{}; }, "exec.argv must name a program"},
      {[](ProbeSpec& s) { s.handler = PostgresCheck{}; }, "postgres.conninfo must not be empty"},
      {[](ProbeSpec& s) { s.name.clear(); }, "probe name must not be empty"},
  };
  for (const auto& c : cases) {
    ProbeSpec s = valid();
    c.mutate(s);
    Status st = validate(s);
    ASSERT_FALSE(st.ok()) << c.expected;
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(st.message().find(c.expected), std::string::npos) << st.message();
  }
}

TEST(DefaultProbes, RedisHasReadinessAndLivenessWithThePassword) {
  DefaultProbeOptions o;
  o.period = 200ms;
  o.timeout = 500ms;
  o.redis_password = "pw";
  auto probes = defaultProbesFor("redis", "127.0.0.1", 6379, o);
  ASSERT_OK(probes);
  ASSERT_EQ(probes->size(), 2u);
  for (const auto& p : *probes) {
    ASSERT_TRUE(std::holds_alternative<RedisCheck>(p.handler));
    EXPECT_EQ(std::get<RedisCheck>(p.handler).password, "pw");
    EXPECT_EQ(p.period, 200ms);
    EXPECT_EQ(p.failure_threshold, 3u);
  }
}

TEST(DefaultProbes, HttpHasAStartupProbeWithItsOwnThreshold) {
  auto probes = defaultProbesFor("http", "127.0.0.1", 8080);
  ASSERT_OK(probes);
  ASSERT_EQ(probes->size(), 3u);
  EXPECT_EQ((*probes)[2].type, ProbeType::kStartup);
  EXPECT_EQ((*probes)[2].failure_threshold, 30u);
  EXPECT_EQ(std::get<HttpGet>((*probes)[1].handler).path, "/health/ready");
}

TEST(DefaultProbes, UnknownKindAndBadPortAreRefused) {
  EXPECT_FALSE(defaultProbesFor("mongo", "127.0.0.1", 1).ok());
  EXPECT_FALSE(defaultProbesFor("tcp", "127.0.0.1", 0).ok());
}

}  // namespace
}  // namespace noa::agent
