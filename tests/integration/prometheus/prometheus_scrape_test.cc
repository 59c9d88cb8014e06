// A real Prometheus server scrapes a real noa-controller and a real noa-agent (beside a real
// redis-server) every second: both targets must come up, their samples must be queryable, and
// `promtool check metrics` must accept both expositions, lint included (a counter without
// `_total`, a bad HELP or TYPE line fails it). Every process is killed by PID at the end.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"
#include "tests/testing/servers/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrometheus = "/usr/bin/prometheus";
constexpr const char* kPromtool = "/usr/bin/promtool";

class PrometheusScrapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kPrometheus) || !std::filesystem::exists(kPromtool)) {
      GTEST_SKIP() << "needs the Debian package prometheus (" << kPrometheus << ", " << kPromtool
                   << ")";
    }
    auto redis = RedisServer::start({});
    ASSERT_OK(redis);
    redis_ = std::move(redis).value();
    zmq_port_ = freePort();
    api_port_ = freePort();
    agent_port_ = freePort();
    prom_port_ = freePort();
    auto creds = TestCredentials::create(path("credentials"));
    ASSERT_OK(creds);
    creds_ = std::move(creds).value();
  }

  void TearDown() override {
    if (!HasFailure()) return;
    if (controller_) std::cerr << "--- controller log\n" << controller_->logTail(2000) << "\n";
    if (agent_) std::cerr << "--- agent log\n" << agent_->logTail(2000) << "\n";
    if (prometheus_) std::cerr << "--- prometheus log\n" << prometheus_->logTail(3000) << "\n";
  }

  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  static std::string local(int port) { return "127.0.0.1:" + std::to_string(port); }

  void startController() {
    std::vector<std::string> argv = {NOA_CONTROLLER_BIN,
                                     "--controller-id",
                                     "ctl-prom",
                                     "--data-dir",
                                     path("controller-data"),
                                     "--listen",
                                     "tcp://" + local(zmq_port_),
                                     "--api-listen",
                                     local(api_port_),
                                     "--report-interval",
                                     "200ms"};
    for (auto& arg : creds_.controllerArgs()) argv.push_back(std::move(arg));
    auto c = ChildProcess::start(argv, path("controller.log"));
    ASSERT_OK(c);
    controller_ = std::move(c).value();
    ASSERT_TRUE(waitUntil([&] { return httpGet(api_port_, "/v1/health").ok(); }, 15s))
        << controller_->logTail();
  }

  // The agent also scrapes the controller's /metrics as "its service's" Prometheus endpoint and
  // follows redis-server's process, so its scrape and process counters move too. The allowlist
  // keeps the controller's per-service aggregates out: they would aggregate themselves again on
  // every report.
  void startAgent() {
    auto extra = creds_.agentArgs("redis-prom");
    ASSERT_OK(extra);
    std::vector<std::string> argv = {NOA_AGENT_BIN,
                                     "--agent-id",
                                     "redis-prom",
                                     "--service",
                                     "redis",
                                     "--kind",
                                     "redis",
                                     "--service-port",
                                     std::to_string(redis_->port()),
                                     "--controller",
                                     "tcp://" + local(zmq_port_),
                                     "--report-interval",
                                     "200ms",
                                     "--probe-period",
                                     "200ms",
                                     "--probe-timeout",
                                     "500ms",
                                     "--http-listen",
                                     local(agent_port_),
                                     "--service-pid",
                                     std::to_string(redis_->pid()),
                                     "--metrics-url",
                                     "http://" + local(api_port_) + "/metrics",
                                     "--metrics-allow",
                                     "noa_ingest_*"};
    for (auto& arg : *extra) argv.push_back(std::move(arg));
    auto a = ChildProcess::start(argv, path("agent.log"));
    ASSERT_OK(a);
    agent_ = std::move(a).value();
  }

  void startPrometheus() {
    {
      std::ofstream config(path("prometheus.yml"));
      config << "global:\n"
             << "  scrape_interval: 1s\n"
             << "  scrape_timeout: 1s\n"
             << "  evaluation_interval: 1s\n"
             << "scrape_configs:\n"
             << "  - job_name: noa-controller\n"
             << "    static_configs:\n"
             << "      - targets: ['" << local(api_port_) << "']\n"
             << "  - job_name: noa-agent\n"
             << "    static_configs:\n"
             << "      - targets: ['" << local(agent_port_) << "']\n";
    }
    EXPECT_EQ(runShell(std::string(kPromtool) + " check config " + path("prometheus.yml"),
                       "promtool-config.log"),
              0)
        << readFile(path("promtool-config.log"));
    auto p = ChildProcess::start({kPrometheus, "--config.file=" + path("prometheus.yml"),
                                  "--storage.tsdb.path=" + path("prometheus-data"),
                                  "--web.listen-address=" + local(prom_port_), "--log.level=warn"},
                                 path("prometheus.log"));
    ASSERT_OK(p);
    prometheus_ = std::move(p).value();
  }

  // Runs `command` through /bin/sh with its output in `log`; returns the exit code.
  int runShell(const std::string& command, const std::string& log) {
    auto c = ChildProcess::start({"/bin/sh", "-c", command}, path(log));
    if (!c.ok()) return -2;
    return (*c)->wait(60s);
  }

  static std::string readFile(const std::string& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // job -> target as Prometheus's /api/v1/targets reports it.
  std::map<std::string, json> targets() {
    std::map<std::string, json> out;
    auto body = httpGetJson(prom_port_, "/api/v1/targets");
    if (!body.ok() || !body->contains("data")) return out;
    for (const auto& t : (*body)["data"]["activeTargets"]) {
      out[t["labels"]["job"].get<std::string>()] = t;
    }
    return out;
  }

  bool bothUp() {
    auto all = targets();
    return all.size() == 2 && all["noa-controller"]["health"] == "up" &&
           all["noa-agent"]["health"] == "up";
  }

  // The value of an instant query that returns exactly one series, or "" if it does not (yet).
  std::string queryOne(const std::string& encoded_query) {
    auto body = httpGetJson(prom_port_, "/api/v1/query?query=" + encoded_query);
    if (!body.ok() || (*body)["status"] != "success") return "";
    const json& result = (*body)["data"]["result"];
    if (result.size() != 1) return "";
    return result[0]["value"][1].get<std::string>();
  }

  // Pipes the /metrics text of `port` through `promtool check metrics`; returns its complaints
  // (empty when it exits 0).
  std::string promtoolComplaints(int port, const std::string& name) {
    auto metrics = httpGet(port, "/metrics");
    if (!metrics.ok()) return "cannot fetch /metrics: " + metrics.status().toString();
    if (metrics->status != 200) return "/metrics answered " + std::to_string(metrics->status);
    { std::ofstream(path(name + ".metrics")) << metrics->body; }
    const int code =
        runShell(std::string("exec ") + kPromtool + " check metrics < " + path(name + ".metrics"),
                 name + ".promtool.log");
    if (code == 0) return "";
    return "promtool exited " + std::to_string(code) + ": " +
           readFile(path(name + ".promtool.log")) + "\n--- exposition (start)\n" +
           metrics->body.substr(0, 3000);
  }

  TempDir dir_;
  TestCredentials creds_;
  int zmq_port_ = 0;
  int api_port_ = 0;
  int agent_port_ = 0;
  int prom_port_ = 0;
  std::unique_ptr<RedisServer> redis_;
  std::unique_ptr<ChildProcess> controller_;
  std::unique_ptr<ChildProcess> agent_;
  std::unique_ptr<ChildProcess> prometheus_;
};

TEST_F(PrometheusScrapeTest, ScrapesControllerAndAgentAndPromtoolAcceptsBoth) {
  startController();
  startAgent();
  ASSERT_TRUE(waitUntil(
      [&] {
        auto a = httpGetJson(api_port_, "/v1/agents/redis-prom", creds_.token("viewer"));
        return a.ok() && (*a)["state"] == "alive" && (*a)["health"]["state"] == "healthy";
      },
      20s));
  // Requests that put labelled series into the expositions which a quiet start leaves out: a
  // refused route on the controller, a history read.
  (void)httpGet(api_port_, "/v1/no-such-route");
  (void)httpGet(api_port_, "/v1/agents/redis-prom/history?limit=1", creds_.token("viewer"));

  startPrometheus();
  ASSERT_TRUE(waitUntil([&] { return bothUp(); }, 30s, 200ms)) << [&] {
    std::string why;
    for (const auto& [job, t] : targets()) why += job + ": " + t.dump() + "\n";
    return why.empty() ? std::string("no targets reported") : why;
  }();
  for (auto& [job, t] : targets()) EXPECT_EQ(t["lastError"], "") << job;

  // The samples are stored, not only fetched: the controller counts one live agent and the
  // agent says it is registered.
  EXPECT_TRUE(waitUntil(
      [&] {
        return queryOne("noa_agents%7Bjob%3D%22noa-controller%22%2Cstate%3D%22alive%22%7D") == "1";
      },
      15s, 200ms));
  EXPECT_TRUE(
      waitUntil([&] { return queryOne("noa_agent_registered%7Bjob%3D%22noa-agent%22%7D") == "1"; },
                15s, 200ms));

  EXPECT_EQ(promtoolComplaints(api_port_, "controller"), "");
  EXPECT_EQ(promtoolComplaints(agent_port_, "agent"), "");

  EXPECT_TRUE(prometheus_->running()) << "prometheus died";
  EXPECT_TRUE(agent_->running()) << "agent died";
  EXPECT_TRUE(controller_->running()) << "controller died";
}

}  // namespace
}  // namespace noa::testing
