// redis.promote / redis.follow / RedisPauseFence against a real redis-server master with two
// replicas (`--replicaof`), started by the test.
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <thread>

#include "agent/replication/redis_actions.h"
#include "agent/replication/replication_common.h"
#include "agent/replication/service_fences.h"
#include "tests/testing/servers/redis_server.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::replication {
namespace {

using namespace std::chrono_literals;
using noa::testing::RedisServer;

// One command on a fresh connection with a short timeout: the reply as text ("OK", a bulk
// string, an integer), or "ERR ..." / "TIMEOUT" / "CONNECT ...".
std::string redisCall(int port, const std::vector<std::string>& args,
                      std::chrono::milliseconds timeout = 500ms) {
  timeval tv{0, static_cast<suseconds_t>(timeout.count() * 1000)};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, tv);
  if (c == nullptr || c->err != 0) {
    std::string e = c != nullptr ? c->errstr : "oom";
    if (c != nullptr) redisFree(c);
    return "CONNECT " + e;
  }
  redisSetTimeout(c, tv);
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  std::string out;
  if (r == nullptr) {
    out = "TIMEOUT";
  } else if (r->type == REDIS_REPLY_INTEGER) {
    out = std::to_string(r->integer);
  } else if (r->type == REDIS_REPLY_NIL) {
    out = "(nil)";
  } else if (r->type == REDIS_REPLY_ERROR) {
    out = "ERR " + std::string(r->str, r->len);
  } else if (r->str != nullptr) {
    out = std::string(r->str, r->len);
  }
  if (r != nullptr) freeReplyObject(r);
  redisFree(c);
  return out;
}

bool eventually(int port, const std::vector<std::string>& args, const std::string& want) {
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    if (redisCall(port, args) == want) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

class RedisReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // No 5 s wait for more replicas before the first full sync.
    auto master = RedisServer::start({.extra_args = {"--repl-diskless-sync-delay", "0"}});
    ASSERT_OK(master);
    master_ = std::move(*master);
    for (int i = 0; i < 2; ++i) {
      auto replica = RedisServer::start(
          {.extra_args = {"--replicaof", "127.0.0.1", std::to_string(master_->port())}});
      ASSERT_OK(replica);
      replicas_.push_back(std::move(*replica));
    }
    ASSERT_EQ(redisCall(master_->port(), {"SET", "k", "v0"}), "OK");
    for (auto& r : replicas_) ASSERT_TRUE(eventually(r->port(), {"GET", "k"}, "v0"));
  }
  nlohmann::json target(int port) {
    return {{"host", "127.0.0.1"}, {"port", port}, {"lock_dir", locks_.path()}};
  }

  std::unique_ptr<RedisServer> master_;
  std::vector<std::unique_ptr<RedisServer>> replicas_;
  noa::testing::TempDir locks_;
  actions::ActionContext ctx_;
};

TEST_F(RedisReplicationTest, PauseFenceBlocksWritesUntilUnfenced) {
  FenceOptions o;
  o.service_port = master_->port();
  auto fence = makeServiceFence("redis", o);
  ASSERT_NE(fence, nullptr);
  EXPECT_EQ(fence->method(), "redis_pause");
  ASSERT_OK(fence->fence());
  ASSERT_OK(fence->fence());
  EXPECT_EQ(redisCall(master_->port(), {"SET", "k", "while-fenced"}, 300ms), "TIMEOUT");
  EXPECT_EQ(redisCall(master_->port(), {"GET", "x"}, 300ms), "(nil)");  // reads still served
  ASSERT_OK(fence->unfence());
  EXPECT_EQ(redisCall(master_->port(), {"SET", "k", "after"}), "OK");
  ASSERT_OK(fence->unfence());

  // A server that is not running counts as fenced; unfencing it is an error.
  auto port = noa::testing::pickFreePort();
  ASSERT_OK(port);
  o.service_port = *port;
  auto dead = makeServiceFence("redis", o);
  EXPECT_OK(dead->fence());
  EXPECT_FALSE(dead->unfence().ok());
}

TEST_F(RedisReplicationTest, PromoteOneReplicaAndPointTheOthersAtIt) {
  const int new_primary = replicas_[0]->port();
  FenceOptions o;
  o.service_port = master_->port();
  ASSERT_OK(makeServiceFence("redis", o)->fence());

  auto p = RedisPromoteParams::fromJson(target(new_primary));
  ASSERT_OK(p);
  auto promoted = runRedisPromote(*p, ctx_);
  ASSERT_TRUE(promoted.ok) << promoted.error_code << ": " << promoted.error;
  EXPECT_EQ(promoted.details["already_primary"], false);
  EXPECT_TRUE(promoted.details["master_repl_offset"].is_number());
  EXPECT_EQ(redisCall(new_primary, {"SET", "k", "v1"}), "OK");
  auto again = runRedisPromote(*p, ctx_);
  ASSERT_TRUE(again.ok) << again.error;
  EXPECT_EQ(again.details["already_primary"], true);

  for (int port : {replicas_[1]->port(), master_->port()}) {
    auto params = target(port);
    params["primary_host"] = "127.0.0.1";
    params["primary_port"] = new_primary;
    auto f = RedisFollowParams::fromJson(params);
    ASSERT_OK(f);
    auto followed = runRedisFollow(*f, ctx_);
    ASSERT_TRUE(followed.ok) << followed.error_code << ": " << followed.error;
    EXPECT_EQ(followed.details["link_status"], "up") << port;
  }
  ASSERT_EQ(redisCall(new_primary, {"SET", "k", "v2"}), "OK");
  EXPECT_TRUE(eventually(replicas_[1]->port(), {"GET", "k"}, "v2"));
  EXPECT_TRUE(eventually(master_->port(), {"GET", "k"}, "v2"));
  // The old master was unpaused and is a read-only replica now.
  EXPECT_EQ(redisCall(master_->port(), {"SET", "k", "x"}).rfind("ERR READONLY", 0), 0u);
}

TEST_F(RedisReplicationTest, BadInputAndDeadServer) {
  auto missing = RedisFollowParams::fromJson(target(master_->port()));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("primary_host"), std::string::npos);
  auto port = noa::testing::pickFreePort();
  ASSERT_OK(port);
  auto p = RedisPromoteParams::fromJson(target(*port));
  ASSERT_OK(p);
  auto r = runRedisPromote(*p, ctx_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, kErrUnreachable);
}

}  // namespace
}  // namespace noa::agent::replication
