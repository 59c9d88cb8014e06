// What an agent reports reaches the controller promptly: a probe change goes out at once, not at
// the next report tick, and the llama kind tells "loading" from "ready". Real noa-controller and
// noa-agent processes on loopback beside a real redis-server; llama.cpp cannot run here, so the
// model server is a test double (tests/testing/servers/llama_double.h) that answers /health
// like llama.cpp does:
// 503 {"error":{"code":503,"message":"Loading model"}} while loading, then 200 {"status":"ok"}.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>

#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"
#include "tests/testing/servers/llama_double.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ReportingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zmq_port_ = freePort();
    api_port_ = freePort();
    auto creds = TestCredentials::create(dir_.path() + "/credentials");
    ASSERT_TRUE(creds.ok()) << creds.status().toString();
    creds_ = std::move(creds).value();
    std::vector<std::string> argv = {NOA_CONTROLLER_BIN,
                                     "--controller-id",
                                     "ctl",
                                     "--data-dir",
                                     dir_.path() + "/data",
                                     "--listen",
                                     endpoint(),
                                     "--api-listen",
                                     "127.0.0.1:" + std::to_string(api_port_),
                                     "--report-interval",
                                     "5s"};
    for (auto& arg : creds_.controllerArgs()) argv.push_back(std::move(arg));
    auto c = ChildProcess::start(argv, dir_.path() + "/controller.log");
    ASSERT_TRUE(c.ok()) << c.status().toString();
    controller_ = std::move(c).value();
    ASSERT_TRUE(waitUntil([&] { return httpGet(api_port_, "/v1/health").ok(); }, 10s))
        << controller_->logTail();
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- controller\n" << controller_->logTail() << "\n";
      if (agent_) std::cerr << "--- agent\n" << agent_->logTail() << "\n";
    }
  }

  std::string endpoint() const { return "tcp://127.0.0.1:" + std::to_string(zmq_port_); }

  void startAgent(const std::string& kind, int port) {
    std::vector<std::string> argv = {NOA_AGENT_BIN,
                                     "--agent-id",
                                     "a1",
                                     "--service",
                                     "svc",
                                     "--kind",
                                     kind,
                                     "--service-port",
                                     std::to_string(port),
                                     "--controller",
                                     endpoint(),
                                     "--report-interval",
                                     "10s",
                                     "--probe-period",
                                     "200ms",
                                     "--probe-timeout",
                                     "500ms",
                                     "--probe-failure-threshold",
                                     "2"};
    auto extra = creds_.agentArgs("a1");
    ASSERT_TRUE(extra.ok()) << extra.status().toString();
    for (auto& arg : *extra) argv.push_back(std::move(arg));
    auto a = ChildProcess::start(argv, dir_.path() + "/agent.log");
    ASSERT_TRUE(a.ok()) << a.status().toString();
    agent_ = std::move(a).value();
  }

  json agent() {
    auto body = httpGetJson(api_port_, "/v1/agents/a1", creds_.token("viewer"));
    return body.ok() ? *body : json::object();
  }
  std::string healthState() {
    json a = agent();
    return a.contains("health") ? a["health"].value("state", "") : "";
  }

  TempDir dir_;
  TestCredentials creds_;
  int zmq_port_ = 0;
  int api_port_ = 0;
  std::unique_ptr<ChildProcess> controller_;
  std::unique_ptr<ChildProcess> agent_;
};

TEST_F(ReportingTest, AProbeChangeIsReportedAtOnceNotAtTheNextTick) {
  const int redis_port = freePort();
  auto redis =
      ChildProcess::start({"redis-server", "--port", std::to_string(redis_port), "--bind",
                           "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir_.path()},
                          dir_.path() + "/redis.log");
  ASSERT_TRUE(redis.ok()) << redis.status().toString();
  ASSERT_TRUE(waitUntil(
      [&] {
        auto pong = sendRaw(redis_port, "PING\r\n", 200ms);
        return pong.ok() && pong->find("PONG") != std::string::npos;
      },
      10s));
  startAgent("redis", redis_port);
  ASSERT_TRUE(waitUntil([&] { return healthState() == "healthy"; }, 15s));

  // Reports are 10 s apart here; the change must not wait for the next one.
  (*redis)->kill9();
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitUntil([&] { return healthState() == "unhealthy"; }, 9s));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 5s);
  EXPECT_EQ(agent()["state"], "alive");
}

TEST_F(ReportingTest, LlamaKindIsStartingWhileTheModelLoadsAndHealthyOnceReady) {
  LlamaServerDouble llama;
  startAgent("llama", llama.port());
  ASSERT_TRUE(waitUntil([&] { return healthState() == "starting"; }, 15s));
  json a = agent();
  EXPECT_FALSE(a["health"]["ready"].get<bool>());
  EXPECT_FALSE(a["health"]["started"].get<bool>());

  llama.finishLoading();
  ASSERT_TRUE(waitUntil([&] { return healthState() == "healthy"; }, 9s));
  a = agent();
  EXPECT_TRUE(a["health"]["ready"].get<bool>());
  EXPECT_TRUE(a["health"]["started"].get<bool>());
}

}  // namespace
}  // namespace noa::testing
