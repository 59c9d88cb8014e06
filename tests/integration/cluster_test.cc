// A controller and agents as real processes on loopback, beside a real redis-server: register,
// lose an agent to kill -9, get it back, kill -9 the controller and restart it on the same
// store. Every process is killed by PID when the test ends, also when it fails.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/protocol/codec.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_port_ = freePort();
    zmq_port_ = freePort();
    api_port_ = freePort();
    auto creds = TestCredentials::create(dir_.path() + "/credentials");
    ASSERT_TRUE(creds.ok()) << creds.status().toString();
    creds_ = std::move(creds).value();
    startRedis();
  }

  void startRedis() {
    auto redis =
        ChildProcess::start({"redis-server", "--port", std::to_string(redis_port_), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir_.path()},
                            dir_.path() + "/redis.log");
    ASSERT_TRUE(redis.ok()) << redis.status().toString();
    redis_ = std::move(redis).value();
  }

  void TearDown() override {
    if (HasFailure()) {
      if (controller_) std::cerr << "--- controller log\n" << controller_->logTail() << "\n";
      for (auto& [i, agent] : agents_) {
        if (agent) std::cerr << "--- agent " << i << " log\n" << agent->logTail(1500) << "\n";
      }
    }
  }

  std::string dataDir() const { return dir_.path() + "/controller-data"; }

  void startController() {
    std::vector<std::string> argv = {NOA_CONTROLLER_BIN,
                                     "--controller-id",
                                     "ctl-test",
                                     "--data-dir",
                                     dataDir(),
                                     "--listen",
                                     "tcp://127.0.0.1:" + std::to_string(zmq_port_),
                                     "--api-listen",
                                     "127.0.0.1:" + std::to_string(api_port_),
                                     "--report-interval",
                                     "200ms",
                                     "--suspect-after",
                                     "3",
                                     "--lost-after",
                                     "5",
                                     "--log-level",
                                     "debug"};
    for (auto& arg : creds_.controllerArgs()) argv.push_back(std::move(arg));
    auto c = ChildProcess::start(argv, dir_.path() + "/controller.log");
    ASSERT_TRUE(c.ok()) << c.status().toString();
    controller_ = std::move(c).value();
    ASSERT_TRUE(waitUntil([&] { return httpGet(api_port_, "/v1/health").ok(); }, 10s))
        << controller_->logTail();
  }

  void startAgent(int i) {
    const std::string id = "redis-" + std::to_string(i);
    std::vector<std::string> argv = {NOA_AGENT_BIN,
                                     "--agent-id",
                                     id,
                                     "--service",
                                     "redis",
                                     "--kind",
                                     "redis",
                                     "--service-port",
                                     std::to_string(redis_port_),
                                     "--controller",
                                     "tcp://127.0.0.1:" + std::to_string(zmq_port_),
                                     "--report-interval",
                                     "200ms",
                                     "--probe-period",
                                     "200ms",
                                     "--probe-timeout",
                                     "500ms",
                                     "--log-level",
                                     "debug"};
    auto extra = creds_.agentArgs(id);
    ASSERT_TRUE(extra.ok()) << extra.status().toString();
    for (auto& arg : *extra) argv.push_back(std::move(arg));
    auto a = ChildProcess::start(argv, dir_.path() + "/agent-" + id.substr(6) + ".log");
    ASSERT_TRUE(a.ok()) << a.status().toString();
    agents_[i] = std::move(a).value();
  }

  // agent id -> agent JSON, from the REST API.
  std::map<std::string, json> agents() {
    std::map<std::string, json> out;
    auto body = httpGetJson(api_port_, "/v1/agents", creds_.token("viewer"));
    if (!body.ok() || !body->contains("agents")) return out;
    for (const auto& a : (*body)["agents"]) out[a["id"].get<std::string>()] = a;
    return out;
  }

  bool allAlive(size_t n) {
    auto all = agents();
    if (all.size() != n) return false;
    for (const auto& [id, a] : all) {
      if (a["state"] != "alive" || a["last_seq"].get<uint64_t>() == 0) return false;
    }
    return true;
  }

  TempDir dir_;
  TestCredentials creds_;
  int redis_port_ = 0;
  int zmq_port_ = 0;
  int api_port_ = 0;
  std::unique_ptr<ChildProcess> redis_;
  std::unique_ptr<ChildProcess> controller_;
  std::map<int, std::unique_ptr<ChildProcess>> agents_;
};

TEST_F(ClusterTest, AgentsRegisterGetLostComeBackAndSurviveAControllerCrash) {
  startController();
  for (int i = 1; i <= 3; ++i) startAgent(i);
  ASSERT_TRUE(waitUntil([&] { return allAlive(3); }, 15s)) << agents().size() << " agents";
  EXPECT_EQ(agents()["redis-1"]["health"]["state"], "healthy");

  // kill -9 one agent: lost within 5 intervals (1 s) plus one sweep and some slack.
  agents_[2]->kill9();
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitUntil([&] { return agents()["redis-2"]["state"] == "lost"; }, 10s));
  const auto lost_after = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LT(lost_after, 3s)
      << "lost only after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(lost_after).count() << " ms";
  EXPECT_EQ(agents()["redis-1"]["state"], "alive");

  // It comes back on its own restart.
  startAgent(2);
  ASSERT_TRUE(waitUntil([&] { return allAlive(3); }, 10s));

  // kill -9 the controller; restart on the same data dir: the registry is intact at once and
  // every agent reports again without anyone acting.
  std::map<std::string, uint64_t> seq_before;
  for (const auto& [id, a] : agents()) seq_before[id] = a["last_seq"].get<uint64_t>();
  controller_->kill9();
  startController();
  auto after = agents();
  ASSERT_EQ(after.size(), 3u);
  for (const auto& [id, a] : after) EXPECT_EQ(a["service"], "redis") << id;
  ASSERT_TRUE(waitUntil(
      [&] {
        auto now = agents();
        for (const auto& [id, a] : now) {
          if (a["state"] != "alive" || a["last_seq"].get<uint64_t>() <= seq_before[id]) {
            return false;
          }
        }
        return now.size() == 3;
      },
      10s));
  auto history =
      httpGetJson(api_port_, "/v1/agents/redis-1/history?limit=1000", creds_.token("viewer"));
  ASSERT_TRUE(history.ok());
  EXPECT_GT((*history)["entries"].size(), 5u);

  // noactl lists them.
  const std::string out_path = dir_.path() + "/noactl.out";
  std::vector<std::string> ctl_argv = {NOA_CTL_BIN, "--controller",
                                       "http://127.0.0.1:" + std::to_string(api_port_)};
  for (auto& arg : creds_.noactlArgs("viewer")) ctl_argv.push_back(std::move(arg));
  for (const char* arg : {"--output", "json", "agents"}) ctl_argv.emplace_back(arg);
  auto ctl = ChildProcess::start(ctl_argv, out_path);
  ASSERT_TRUE(ctl.ok());
  ASSERT_EQ((*ctl)->wait(10s), 0) << (*ctl)->logTail();
  std::ifstream in(out_path);
  json listed = json::parse(in, nullptr, false);
  ASSERT_FALSE(listed.is_discarded()) << (*ctl)->logTail();
  ASSERT_TRUE(listed.contains("agents"));
  EXPECT_EQ(listed["agents"].size(), 3u);
}

TEST_F(ClusterTest, ServiceOutageShowsInHealthAndRecovers) {
  startController();
  startAgent(1);
  ASSERT_TRUE(waitUntil([&] { return agents()["redis-1"]["health"]["state"] == "healthy"; }, 15s));
  redis_->kill9();
  // failure threshold 3 x period 200 ms, plus a report interval and slack.
  ASSERT_TRUE(waitUntil([&] { return agents()["redis-1"]["health"]["state"] == "unhealthy"; }, 5s));
  EXPECT_EQ(agents()["redis-1"]["state"], "alive");  // the agent itself is fine
  startRedis();
  EXPECT_TRUE(waitUntil([&] { return agents()["redis-1"]["health"]["state"] == "healthy"; }, 5s));
}

TEST_F(ClusterTest, GarbageOnBothPortsIsRejectedAndEveryoneElseIsServed) {
  startController();
  startAgent(1);
  ASSERT_TRUE(waitUntil([&] { return allAlive(1); }, 15s));

  // Not ZeroMQ at all, then a ZMTP greeting followed by junk.
  (void)sendRaw(zmq_port_, std::string(1000, '\xff'), 300ms);
  (void)sendRaw(zmq_port_, std::string("\xff\0\0\0\0\0\0\0\x01\x7f", 10) + "junkjunkjunk", 300ms);
  // Not HTTP.
  auto reply = sendRaw(api_port_, "\x16\x03\x01\x02garbage\r\n\r\n", 1s);
  ASSERT_TRUE(reply.ok());

  auto health = httpGetJson(api_port_, "/v1/health");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ((*health)["status"], "ok");
  const uint64_t seq = agents()["redis-1"]["last_seq"].get<uint64_t>();
  EXPECT_TRUE(waitUntil([&] { return agents()["redis-1"]["last_seq"].get<uint64_t>() > seq; }, 5s));
  auto metrics = httpGet(api_port_, "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("noa_api_rejected_total"), std::string::npos);
}

TEST(ControllerProcess, CorruptStoreIsRefusedWithRecoveryAdviceAndLeftUntouched) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  const int api_port = freePort();
  const int zmq_port = freePort();
  std::vector<std::string> argv = {NOA_CONTROLLER_BIN,
                                   "--data-dir",
                                   data,
                                   "--listen",
                                   "tcp://127.0.0.1:" + std::to_string(zmq_port),
                                   "--api-listen",
                                   "127.0.0.1:" + std::to_string(api_port)};
  auto creds = TestCredentials::create(dir.path() + "/credentials");
  ASSERT_TRUE(creds.ok()) << creds.status().toString();
  for (auto& arg : creds->controllerArgs()) argv.push_back(std::move(arg));
  {
    auto c = ChildProcess::start(argv, dir.path() + "/first.log");
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(waitUntil([&] { return httpGet(api_port, "/v1/health").ok(); }, 30s));
    // A generous grace: on a loaded machine a clean stop (store flush) can take a while.
    EXPECT_EQ((*c)->terminate(std::chrono::seconds(30)), 0) << (*c)->logTail();
  }
  // Damage every MANIFEST file.
  size_t files_before = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data)) {
    ++files_before;
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      std::ofstream(entry.path(), std::ios::trunc) << "this is not a manifest";
    }
  }
  auto c = ChildProcess::start(argv, dir.path() + "/second.log");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->wait(30s), 2) << (*c)->logTail();
  EXPECT_NE((*c)->logTail().find("repair"), std::string::npos) << (*c)->logTail();
  size_t files_after = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(data)) {
    ++files_after;
  }
  EXPECT_GE(files_after, files_before);
}

TEST(ControllerProcess, CheckConfigAndBadFlags) {
  TempDir dir;
  auto creds = TestCredentials::create(dir.path() + "/credentials");
  ASSERT_TRUE(creds.ok()) << creds.status().toString();
  {
    std::vector<std::string> argv = {NOA_CONTROLLER_BIN, "--check-config", "--data-dir",
                                     dir.path() + "/data"};
    for (auto& arg : creds->controllerArgs()) argv.push_back(std::move(arg));
    auto c = ChildProcess::start(argv, dir.path() + "/ok.log");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->wait(10s), 0);
    EXPECT_NE((*c)->logTail().find("config ok"), std::string::npos);
  }
  {
    auto c = ChildProcess::start({NOA_CONTROLLER_BIN, "--lost-after", "1", "--check-config"},
                                 dir.path() + "/bad.log");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->wait(10s), 1);
    EXPECT_NE((*c)->logTail().find("--lost-after"), std::string::npos);
  }
  {
    std::vector<std::string> argv = {NOA_AGENT_BIN,   "--check-config",
                                     "--agent-id",    "a",
                                     "--service",     "s",
                                     "--kind",        "postgres",
                                     "--pg-conninfo", "host=x password=hunter2"};
    auto extra = creds->agentArgs("a");
    ASSERT_TRUE(extra.ok()) << extra.status().toString();
    for (auto& arg : *extra) argv.push_back(std::move(arg));
    auto c = ChildProcess::start(argv, dir.path() + "/agent.log");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ((*c)->wait(10s), 0);
    EXPECT_EQ((*c)->logTail().find("hunter2"), std::string::npos);
  }
}

}  // namespace
}  // namespace noa::testing
