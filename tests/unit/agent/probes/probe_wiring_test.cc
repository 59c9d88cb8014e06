// How the agent wires its probes: probes from flags (password file, conninfo), the report they
// fill, and the metrics they count.

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "agent/runtime/agent_config.h"
#include "agent/runtime/agent_metrics.h"
#include "agent/runtime/agent_probes.h"
#include "agent/runtime/probe_report_source.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

// These tests are about probes and metrics sources, not the channel: plaintext spares them a
// controller key (the channel's flags are tested in agent_config_test).
Status parse(std::vector<const char*> args, AgentConfig& config) {
  args.insert(args.begin(), "noa-agent");
  args.push_back("--insecure-plaintext");
  return parseAgentConfig(static_cast<int>(args.size()), args.data(), config);
}

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/noa-probe-wiring-XXXXXX";
    const int fd = ::mkstemp(name);
    ::close(fd);
    path_ = name;
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(AgentProbes, RedisPasswordComesFromTheFileWithoutItsNewline) {
  TempFile file("s3cret\n");
  AgentConfig config;
  ASSERT_OK(parse({"--agent-id", "r", "--service", "redis", "--kind", "redis", "--service-port",
                   "6380", "--probe-period", "200ms", "--probe-timeout", "500ms",
                   "--redis-password-file", file.path().c_str()},
                  config));
  auto probes = probesForAgent(config);
  ASSERT_OK(probes);
  ASSERT_EQ(probes->size(), 2u);
  for (const auto& p : *probes) {
    const auto& redis = std::get<RedisCheck>(p.handler);
    EXPECT_EQ(redis.password, "s3cret");
    EXPECT_EQ(redis.port, 6380);
    EXPECT_EQ(p.period, 200ms);
    EXPECT_EQ(p.timeout, 500ms);
    EXPECT_EQ(p.failure_threshold, 3u);
  }
}

TEST(AgentProbes, MissingOrEmptyPasswordFileIsAConfigError) {
  AgentConfig config;
  ASSERT_OK(parse({"--agent-id", "r", "--service", "redis", "--kind", "redis", "--service-port",
                   "6380", "--redis-password-file", "/nonexistent/pw"},
                  config));
  auto missing = probesForAgent(config);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--redis-password-file '/nonexistent/pw'"),
            std::string::npos)
      << missing.status().message();

  TempFile empty("\n");
  config.redis_password_file = empty.path();
  auto blank = probesForAgent(config);
  ASSERT_FALSE(blank.ok());
  EXPECT_NE(blank.status().message().find("is empty"), std::string::npos);
}

TEST(AgentProbes, PgConninfoReplacesTheDefault) {
  AgentConfig config;
  ASSERT_OK(parse({"--agent-id", "p", "--service", "pg", "--kind", "postgres", "--pg-conninfo",
                   "host=/run/postgresql dbname=app"},
                  config));
  auto probes = probesForAgent(config);
  ASSERT_OK(probes);
  ASSERT_FALSE(probes->empty());
  for (const auto& p : *probes) {
    EXPECT_EQ(std::get<PostgresCheck>(p.handler).conninfo, "host=/run/postgresql dbname=app");
  }

  AgentConfig by_port;
  ASSERT_OK(
      parse({"--agent-id", "p", "--service", "pg", "--kind", "postgres", "--service-port", "5433"},
            by_port));
  auto defaults = probesForAgent(by_port);
  ASSERT_OK(defaults);
  EXPECT_NE(std::get<PostgresCheck>((*defaults)[0].handler).conninfo.find("port=5433"),
            std::string::npos);
}

TEST(AgentProbes, GenericWithoutPortHasNothingToProbe) {
  AgentConfig config;
  ASSERT_OK(parse({"--agent-id", "g", "--service", "x"}, config));
  auto probes = probesForAgent(config);
  ASSERT_OK(probes);
  EXPECT_TRUE(probes->empty());
}

TEST(AgentConfigFlags, HttpListenAndHost) {
  AgentConfig config;
  ASSERT_OK(
      parse({"--agent-id", "g", "--service", "x", "--http-listen", "127.0.0.1:9100"}, config));
  EXPECT_EQ(config.http_host, "127.0.0.1");
  EXPECT_EQ(config.http_port, 9100);
  EXPECT_FALSE(config.host.empty());  // the hostname by default

  AgentConfig named;
  ASSERT_OK(parse({"--agent-id", "g", "--service", "x", "--host", "db-7"}, named));
  EXPECT_EQ(named.host, "db-7");
  EXPECT_TRUE(named.http_listen.empty());

  for (const char* bad : {"9100", "host:", ":9100", "h:70000", "h:x1"}) {
    AgentConfig c;
    Status s = parse({"--agent-id", "g", "--service", "x", "--http-listen", bad}, c);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.message().find("--http-listen"), std::string::npos) << s.message();
  }
}

TEST(ProbeReportSource, FillsHealthRoleAndAttributes) {
  ProbeSnapshot snap;
  snap.health.state = "healthy";
  snap.health.live = snap.health.ready = snap.health.started = true;
  snap.health.probes.push_back({"readiness", "readiness", "success", 4, 0, 812, "PONG, primary"});
  snap.facts.role = "primary";
  snap.facts.attributes = {{"master_repl_offset", "42"}};
  ProbeReportSource source([&] { return snap; });
  EXPECT_FALSE(source.firstReportBuilt());
  protocol::Report report;
  source.fill(report);
  EXPECT_TRUE(source.firstReportBuilt());
  EXPECT_EQ(report.health, snap.health);
  EXPECT_EQ(report.role, "primary");
  EXPECT_EQ(report.attributes.at("master_repl_offset"), "42");
}

TEST(AgentMetrics, CountsAttemptsFailuresStateAndMirrorsTheSession) {
  prometheus::Registry registry;
  ProbeSpec spec;
  spec.name = "liveness";
  spec.type = ProbeType::kLiveness;
  spec.handler = TcpSocket{"127.0.0.1", 1};
  AgentMetrics metrics(registry, {spec});
  EXPECT_EQ(metrics.stateForTest("liveness"), -1);
  metrics.observeAttempt(spec, CheckOutcome{true, "ok", std::nullopt}, ProbeStatus::kSuccess);
  metrics.observeAttempt(spec, CheckOutcome{false, "refused", std::nullopt}, ProbeStatus::kSuccess);
  EXPECT_EQ(metrics.attemptsForTest("liveness"), 2);
  EXPECT_EQ(metrics.failuresForTest("liveness"), 1);
  EXPECT_EQ(metrics.stateForTest("liveness"), 1);
  metrics.observeAttempt(spec, CheckOutcome{false, "refused", std::nullopt}, ProbeStatus::kFailure);
  EXPECT_EQ(metrics.stateForTest("liveness"), 0);

  SessionStats stats;
  stats.reports_sent = 5;
  stats.registered = true;
  stats.queued_events = 3;
  metrics.syncSession(stats);
  stats.reports_sent = 7;
  metrics.syncSession(stats);
  metrics.syncSession(stats);
  bool found = false;
  for (const auto& family : registry.Collect()) {
    if (family.name == "noa_agent_reports_sent_total") {
      found = true;
      EXPECT_EQ(family.metric.at(0).counter.value, 7);
    }
    if (family.name == "noa_agent_registered") {
      EXPECT_EQ(family.metric.at(0).gauge.value, 1);
    }
    if (family.name == "noa_agent_outbox_events") {
      EXPECT_EQ(family.metric.at(0).gauge.value, 3);
    }
    if (family.name == "noa_agent_probe_duration_seconds") {
      EXPECT_EQ(family.metric.at(0).histogram.sample_count, 3u);
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace noa::agent
