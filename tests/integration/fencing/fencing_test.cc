// Self-fencing end to end: a real redis-server, a real noa-agent process and a stand-in
// controller (a ROUTER socket in this test) that grants the leader lease on each report ack,
// then goes silent. The primary must stop taking writes within about one lease, heal by itself
// when grants resume, obey the controller's fence/unfence commands, and a replica must never be
// fenced. The agent also says at once when the service's process dies.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "tests/integration/fencing/fake_controller.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/servers/redis_server.h"
#include "tests/testing/status_matchers.h"

namespace noa {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::FakeController;
using testing::Mode;
using testing::TempDir;
using testing::waitUntil;

// One SET with a short timeout: true when the server took it (a CLIENT PAUSE WRITE blocks it).
bool writeAccepted(int port) {
  timeval tv{0, 300 * 1000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return false;
  }
  redisSetTimeout(c, tv);
  auto* reply = static_cast<redisReply*>(redisCommand(c, "SET fencing-probe 1"));
  const bool ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS;
  if (reply) freeReplyObject(reply);
  redisFree(c);
  return ok;
}

bool redisCommandOk(int port, const std::string& command) {
  timeval tv{1, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return false;
  }
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  const bool ok = reply != nullptr && reply->type != REDIS_REPLY_ERROR;
  if (reply) freeReplyObject(reply);
  redisFree(c);
  return ok;
}

class FencingTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<ChildProcess>> startAgent(int redis_port, const std::string& endpoint,
                                                   std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {NOA_AGENT_BIN,     "--agent-id",        "redis-fence",
                                     "--service",       "redis",             "--kind",
                                     "redis",           "--service-port",    std::to_string(redis_port),
                                     "--controller",    endpoint,            "--insecure-plaintext",
                                     "--state-dir",     dir_.path() + "/state",
                                     "--report-interval", "200ms",           "--probe-period",
                                     "200ms",           "--probe-timeout",   "300ms",
                                     "--lease",         "1s",                "--log-level",
                                     "debug"};
    for (auto& e : extra) argv.push_back(std::move(e));
    return ChildProcess::start(argv, dir_.path() + "/agent.log");
  }

  TempDir dir_;
};

TEST_F(FencingTest, PrimaryStopsTakingWritesWithoutLeaseAndHealsWhenGrantsResume) {
  auto redis = testing::RedisServer::start({});
  ASSERT_OK(redis);
  FakeController controller;
  ASSERT_TRUE(controller.ok());
  auto agent = startAgent((*redis)->port(), controller.endpoint());
  ASSERT_OK(agent);

  ASSERT_TRUE(waitUntil(
      [&] {
        return controller.attribute("lease_valid") == "1" && controller.lastReport()->role == "primary";
      },
      10s))
      << (*agent)->logTail();
  EXPECT_EQ(controller.attribute("fenced"), "");
  EXPECT_EQ(controller.attribute("lease_epoch"), "1");
  EXPECT_EQ(controller.attribute("endpoint_host"), "127.0.0.1");
  EXPECT_EQ(controller.attribute("endpoint_port"), std::to_string((*redis)->port()));
  const auto caps = controller.capabilities();
  EXPECT_NE(std::find(caps.begin(), caps.end(), "fence"), caps.end());
  EXPECT_NE(std::find(caps.begin(), caps.end(), "unfence"), caps.end());
  // Renewals keep it going well past the startup grace.
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(writeAccepted((*redis)->port())) << (*agent)->logTail();

  const auto silent_at = std::chrono::steady_clock::now();
  controller.setMode(Mode::kSilent);
  // The last grant was for a report sent at most one interval before; fenced at its deadline.
  ASSERT_TRUE(waitUntil([&] { return !writeAccepted((*redis)->port()); }, 3s, 20ms))
      << (*agent)->logTail();
  EXPECT_LT(std::chrono::steady_clock::now() - silent_at, 1800ms);

  // The control plane answers again but grants nothing (another member may lead now).
  controller.setMode(Mode::kAckOnly);
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("fenced") == "no_lease"; }, 5s))
      << (*agent)->logTail();
  EXPECT_EQ(controller.attribute("fenced_by"), "redis_pause");
  EXPECT_EQ(controller.attribute("lease_valid"), "0");
  EXPECT_FALSE(writeAccepted((*redis)->port()));

  // Still leader: grants lift the fence without a failover.
  controller.setMode(Mode::kGrant);
  ASSERT_TRUE(waitUntil([&] { return writeAccepted((*redis)->port()); }, 5s, 50ms))
      << (*agent)->logTail();
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("fenced") == ""; }, 3s));
  EXPECT_EQ(controller.attribute("lease_valid"), "1");
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
}

TEST_F(FencingTest, ReplicaIsNeverFenced) {
  auto primary = testing::RedisServer::start({});
  ASSERT_OK(primary);
  auto replica = testing::RedisServer::start({});
  ASSERT_OK(replica);
  ASSERT_TRUE(redisCommandOk((*replica)->port(),
                             "REPLICAOF 127.0.0.1 " + std::to_string((*primary)->port())));
  FakeController controller;
  ASSERT_TRUE(controller.ok());
  controller.setMode(Mode::kAckOnly);  // never a grant
  auto agent = startAgent((*replica)->port(), controller.endpoint());
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil([&] {
    auto r = controller.lastReport();
    return r && r->role == "replica";
  }, 10s)) << (*agent)->logTail();
  std::this_thread::sleep_for(2500ms);  // well past the grace and any lease
  EXPECT_EQ(controller.attribute("fenced"), "");
  EXPECT_EQ(controller.attribute("lease_valid"), "0");
  EXPECT_EQ((*agent)->logTail(200000).find("fencing the service"), std::string::npos);
  EXPECT_TRUE(writeAccepted((*primary)->port()));
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
}

TEST_F(FencingTest, ControllerFenceHoldsDespiteGrantsAndSurvivesAgentRestartUntilUnfence) {
  auto redis = testing::RedisServer::start({});
  ASSERT_OK(redis);
  FakeController controller;
  ASSERT_TRUE(controller.ok());
  auto agent = startAgent((*redis)->port(), controller.endpoint());
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("lease_valid") == "1"; }, 10s))
      << (*agent)->logTail();

  controller.sendCommand("fence-1", "fence");
  ASSERT_TRUE(waitUntil([&] { return controller.result("fence-1").has_value(); }, 10s))
      << (*agent)->logTail();
  auto result = *controller.result("fence-1");
  ASSERT_EQ(result.status, "succeeded") << result.error;
  const auto details = nlohmann::json::parse(result.output_json);
  EXPECT_EQ(details["fenced"], true);
  EXPECT_EQ(details["method"], "redis_pause");
  EXPECT_EQ(details["was_role"], "primary");
  EXPECT_FALSE(writeAccepted((*redis)->port()));
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("fenced") == "controller"; }, 3s));

  // Grants keep coming (the controller has not moved on yet): the order holds.
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(writeAccepted((*redis)->port()));

  // A restarted agent keeps it, and applies it again to a server that lost it.
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
  ASSERT_TRUE(redisCommandOk((*redis)->port(), "CLIENT UNPAUSE"));
  agent = startAgent((*redis)->port(), controller.endpoint());
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil([&] { return !writeAccepted((*redis)->port()); }, 5s, 50ms))
      << (*agent)->logTail();

  controller.sendCommand("unfence-1", "unfence");
  ASSERT_TRUE(waitUntil([&] { return controller.result("unfence-1").has_value(); }, 10s))
      << (*agent)->logTail();
  result = *controller.result("unfence-1");
  ASSERT_EQ(result.status, "succeeded") << result.error;
  ASSERT_TRUE(waitUntil([&] { return writeAccepted((*redis)->port()); }, 5s, 50ms))
      << (*agent)->logTail();
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("fenced") == ""; }, 3s));
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
}

TEST_F(FencingTest, PromotionRunsOnlyUnderTheLeaseAndIsNotFencedAfterwards) {
  auto primary = testing::RedisServer::start({});
  ASSERT_OK(primary);
  auto replica = testing::RedisServer::start({});
  ASSERT_OK(replica);
  ASSERT_TRUE(redisCommandOk((*replica)->port(),
                             "REPLICAOF 127.0.0.1 " + std::to_string((*primary)->port())));
  FakeController controller;
  ASSERT_TRUE(controller.ok());
  controller.setMode(Mode::kAckOnly);
  auto agent = startAgent((*replica)->port(), controller.endpoint());
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil([&] {
    auto r = controller.lastReport();
    return r && r->role == "replica";
  }, 10s)) << (*agent)->logTail();

  // Not the lease holder: the promotion is refused and nothing changes.
  controller.sendCommand("promote-1", "redis.promote");
  ASSERT_TRUE(waitUntil([&] { return controller.result("promote-1").has_value(); }, 10s))
      << (*agent)->logTail();
  EXPECT_EQ(controller.result("promote-1")->status, "failed");
  EXPECT_EQ(controller.result("promote-1")->error_code, "refused");
  EXPECT_EQ(controller.lastReport()->role, "replica");

  // The controller made it the holder (grants while still a replica), then promotes.
  controller.setMode(Mode::kGrant);
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("lease_valid") == "1"; }, 5s));
  controller.sendCommand("promote-2", "redis.promote");
  ASSERT_TRUE(waitUntil([&] { return controller.result("promote-2").has_value(); }, 10s))
      << (*agent)->logTail();
  ASSERT_EQ(controller.result("promote-2")->status, "succeeded")
      << controller.result("promote-2")->error;
  ASSERT_TRUE(waitUntil([&] { return controller.lastReport()->role == "primary"; }, 5s));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(controller.attribute("fenced"), "");
  EXPECT_TRUE(writeAccepted((*replica)->port()));
  EXPECT_EQ((*agent)->logTail(200000).find("fencing the service"), std::string::npos);
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
}

TEST_F(FencingTest, DeadServiceProcessIsReportedAtOnce) {
  auto redis = testing::RedisServer::start({});
  ASSERT_OK(redis);
  FakeController controller;
  ASSERT_TRUE(controller.ok());
  auto agent = startAgent((*redis)->port(), controller.endpoint(),
                          {"--service-pid", std::to_string((*redis)->pid())});
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("service_process") == "running"; }, 10s))
      << (*agent)->logTail();
  const auto killed_at = std::chrono::steady_clock::now();
  (*redis)->kill();
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("service_process") == "exited"; }, 3s,
                        10ms))
      << (*agent)->logTail();
  // Well before three failed probes at 200 ms, and within one report interval.
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 300ms);
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
}

}  // namespace
}  // namespace noa
