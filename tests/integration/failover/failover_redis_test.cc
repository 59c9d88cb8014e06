// Failover end to end with real Redis 7: a master and two replicas (--replicaof), each with a
// real noa-agent, and a real noa-controller, all on loopback.

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "tests/integration/failover/failover_fixture.h"
#include "tests/testing/servers/redis_server.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// One command's reply as text ("" and ok=false on a connection error or an error reply).
std::string redisCommand(int port, const std::string& command, bool* ok = nullptr) {
  timeval tv{0, 300000};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (ok) *ok = false;
  if (c == nullptr || c->err) {
    if (c) redisFree(c);
    return "";
  }
  redisSetTimeout(c, tv);
  auto* reply = static_cast<redisReply*>(redisCommand(c, command.c_str()));
  std::string out;
  if (reply != nullptr) {
    if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS) {
      out.assign(reply->str, reply->len);
      if (ok) *ok = true;
    } else if (reply->type == REDIS_REPLY_INTEGER) {
      out = std::to_string(reply->integer);
      if (ok) *ok = true;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      out.assign(reply->str, reply->len);
    }
    freeReplyObject(reply);
  }
  redisFree(c);
  return out;
}

std::string infoField(int port, const std::string& field) {
  const std::string info = redisCommand(port, "INFO replication");
  const size_t at = info.find(field + ":");
  if (at == std::string::npos) return "";
  const size_t end = info.find_first_of("\r\n", at);
  return info.substr(at + field.size() + 1, end - at - field.size() - 1);
}

class RedisFailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto master = RedisServer::start({});
    ASSERT_TRUE(master.ok()) << master.status().toString();
    servers_.push_back(std::move(master).value());
    for (int i = 0; i < 2; ++i) {
      RedisServerOptions o;
      o.extra_args = {"--replicaof", "127.0.0.1", std::to_string(servers_[0]->port())};
      auto replica = RedisServer::start(o);
      ASSERT_TRUE(replica.ok()) << replica.status().toString();
      servers_.push_back(std::move(replica).value());
    }
    ASSERT_TRUE(waitUntil([&] { return infoField(servers_[0]->port(), "connected_slaves") == "2"; }, 15s));
    auto cluster = NoaCluster::create(dir_.path(), {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN});
    ASSERT_TRUE(cluster.ok()) << cluster.status().toString();
    cluster_ = std::move(cluster).value();
    ASSERT_TRUE(cluster_->startController().ok()) << cluster_->logs();
    for (size_t i = 0; i < servers_.size(); ++i) {
      ASSERT_TRUE(cluster_->startAgent(name(i), {"--service", "cache", "--kind", "redis",
                                                 "--service-host", "127.0.0.1", "--service-port",
                                                 std::to_string(servers_[i]->port())})
                      .ok());
    }
    ASSERT_TRUE(waitUntil([&] { return primaryOf(*cluster_, "cache") == "redis-1"; }, 30s))
        << failoverState(*cluster_, "cache").dump(2) << cluster_->logs();
  }
  void TearDown() override {
    if (HasFailure() && cluster_) {
      std::cerr << failoverState(*cluster_, "cache").dump(2) << "\n";
      for (const auto& d : decisionsOf(*cluster_, "cache")) {
        std::cerr << d.dump() << "\n";
      }
      std::cerr << cluster_->logs(6000);
    }
  }
  static std::string name(size_t i) { return "redis-" + std::to_string(i + 1); }
  size_t indexOf(const std::string& n) { return static_cast<size_t>(std::stoi(n.substr(6)) - 1); }

  TempDir dir_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::unique_ptr<NoaCluster> cluster_;
};

TEST_F(RedisFailoverTest, MasterKillPromotesAReplicaAndTheOldMasterRejoinsAsItsReplica) {
  bool ok = false;
  redisCommand(servers_[0]->port(), "SET before 1", &ok);
  ASSERT_TRUE(ok);
  ASSERT_TRUE(waitUntil([&] { return redisCommand(servers_[1]->port(), "GET before") == "1"; }, 5s));
  const auto killed = Clock::now();
  servers_[0]->kill();
  std::string promoted;
  ASSERT_TRUE(waitUntil([&] { promoted = primaryOf(*cluster_, "cache");
                              return !promoted.empty() && promoted != "redis-1"; }, 30s));
  const int new_port = servers_[indexOf(promoted)]->port();
  ASSERT_TRUE(waitUntil([&] { bool w = false; redisCommand(new_port, "SET after 2", &w); return w; }, 10s));
  std::cout << "[ figures ] redis master kill -9 -> first acknowledged write: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count()
            << " ms\n";
  EXPECT_EQ(redisCommand(new_port, "GET before"), "1") << "the promoted replica has the data";
  const size_t other = indexOf(promoted) == 1 ? 2 : 1;
  ASSERT_TRUE(waitUntil([&] {
    return infoField(servers_[other]->port(), "master_port") == std::to_string(new_port) &&
           infoField(servers_[other]->port(), "master_link_status") == "up";
  }, 20s)) << "the other replica does not follow the new master";

  // The old master returns empty (no persistence) and must not take writes as a second master.
  ASSERT_TRUE(servers_[0]->start().ok());
  ASSERT_TRUE(waitUntil([&] {
    return infoField(servers_[0]->port(), "role") == "slave" &&
           infoField(servers_[0]->port(), "master_port") == std::to_string(new_port);
  }, 20s)) << "the old master did not rejoin";
  ASSERT_TRUE(waitUntil([&] { return redisCommand(servers_[0]->port(), "GET after") == "2"; }, 10s));
  bool wrote = true;
  redisCommand(servers_[0]->port(), "SET split 1", &wrote);
  EXPECT_FALSE(wrote) << "the rejoined member accepted a write";
  EXPECT_TRUE(decided(*cluster_, "cache", "promoted"));
}

TEST_F(RedisFailoverTest, ControllerRestartIsNoFailover) {
  cluster_->killController();
  ASSERT_TRUE(cluster_->startController().ok());
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(primaryOf(*cluster_, "cache"), "redis-1");
  EXPECT_EQ(failoverState(*cluster_, "cache")["epoch"], 1);
  bool ok = false;
  redisCommand(servers_[0]->port(), "SET still 1", &ok);
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace noa::testing
