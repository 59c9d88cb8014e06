// IngestCore with CURVE: every message is judged by the key its connection authenticated with
// (the ZAP User-Id) before anything else.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "common/transport/curve_keys.h"
#include "controller/ingest/ingest_core.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/ingest/agent_frames.h"
#include "tests/testing/harness/child_process.h"

namespace noa::controller {
namespace {

using namespace std::chrono_literals;

class IngestKeysTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(KeyRegistryOptions key_options) {
    core_.reset();
    keys_.reset();
    store_.reset();
    store_ = Store::open(StoreOptions{dir_.path() + "/db", true}).value();
    keys_ = KeyRegistry::open(*store_, clock_, key_options).value();
    IngestOptions options;
    options.controller_id = "ctl";
    options.liveness = {std::chrono::milliseconds(1000), 3, 5};
    core_ = std::make_unique<IngestCore>(registry_, clock_, metrics_, options, keys_.get());
  }

  // A key that completed a handshake (pending) and, when `agent` is set, was accepted for it.
  std::string enroll(const std::string& agent) {
    const std::string key = transport::generateKeyPair()->public_key;
    auto decision = keys_->authenticate({"noa", "127.0.0.1", "CURVE", key});
    EXPECT_TRUE(decision.allow);
    if (!agent.empty()) {
      EXPECT_TRUE(keys_->accept(decision.user_id, agent, "test").ok());
    }
    return decision.user_id;
  }

  std::string encode(const std::string& from, protocol::Body body) {
    return frames_.encode(from, std::move(body));
  }
  std::string hello(const std::string& id) {
    protocol::Hello h;
    h.agent_id = id;
    h.service = "redis";
    h.kind = "redis";
    h.host = "node-1";
    h.agent_version = "0.1.0";
    return encode(id, h);
  }
  std::string report(const std::string& id, uint64_t seq) {
    protocol::Report r;
    r.seq = seq;
    r.health.state = "healthy";
    return encode(id, r);
  }

  // Handles one message on `peer`'s connection authenticated as `key_id`; returns replies.
  std::vector<std::pair<std::string, protocol::Envelope>> send(const std::string& peer,
                                                               const std::string& key_id,
                                                               const std::string& payload) {
    Store::Batch batch;
    std::vector<Reply> replies;
    core_->applyKeyChanges(replies);
    core_->handle(peer, payload, 0, key_id, batch, replies);
    core_->flushDirty(batch);
    EXPECT_TRUE(store_->commit(batch).ok());
    return decoded(replies);
  }
  std::vector<std::pair<std::string, protocol::Envelope>> decoded(
      const std::vector<Reply>& replies) {
    std::vector<std::pair<std::string, protocol::Envelope>> out;
    for (const auto& r : replies) out.emplace_back(r.peer, protocol::decode(r.payload).value());
    return out;
  }

  noa::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  prometheus::Registry prom_;
  ControllerMetrics metrics_{prom_};
  Registry registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeyRegistry> keys_;
  std::unique_ptr<IngestCore> core_;
  noa::testing::AgentFrames frames_{clock_};
};

TEST_F(IngestKeysTest, AnAcceptedKeyRegistersAndReportsAsItsOwnAgent) {
  const std::string key = enroll("redis-1");
  auto replies = send("redis-1", key, hello("redis-1"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].second.type(), protocol::MessageType::kWelcome);
  replies = send("redis-1", key, report("redis-1", 1));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].second.body).seq, 1u);
  // A replayed report is stale, not stored again.
  send("redis-1", key, report("redis-1", 1));
  EXPECT_EQ(metrics_.rejectedForTest("stale"), 1);
}

TEST_F(IngestKeysTest, AnAgentPresentingAnotherAgentsIdIsRejectedAndCounted) {
  const std::string key_a = enroll("redis-1");
  const std::string key_b = enroll("redis-2");
  send("redis-1", key_a, hello("redis-1"));
  ASSERT_TRUE(core_->hasSession("redis-1"));
  // Agent B's key, claiming to be A (routing id and from both say redis-1).
  EXPECT_TRUE(send("redis-1", key_b, hello("redis-1")).empty());
  EXPECT_TRUE(send("redis-1", key_b, report("redis-1", 7)).empty());
  EXPECT_EQ(metrics_.rejectedForTest("identity_mismatch"), 2);
  EXPECT_EQ(registry_.get("redis-1")->last_seq, 0u);
  // Its connection holds A's routing id now, so A must say hello again.
  EXPECT_FALSE(core_->hasSession("redis-1"));
  // A's own key with a forged `from` is refused too.
  EXPECT_TRUE(send("redis-1", key_a, report("redis-2", 1)).empty());
  EXPECT_EQ(metrics_.rejectedForTest("identity_mismatch"), 3);
}

TEST_F(IngestKeysTest, APendingKeyCannotRegisterOrSendAndIsToldHowToEnroll) {
  const std::string key = enroll("");
  auto replies = send("redis-9", key, hello("redis-9"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Bye>(replies[0].second.body).reason,
            "key " + key + " awaits enrollment: noactl keys accept " + key);
  EXPECT_FALSE(registry_.get("redis-9").has_value());
  EXPECT_EQ(keys_->get(key)->claimed_agent_id, "redis-9");
  EXPECT_EQ(keys_->get(key)->claimed_service, "redis");
  EXPECT_EQ(keys_->get(key)->claimed_host, "node-1");
  // At most one bye per key per interval; reports are dropped without an answer.
  EXPECT_TRUE(send("redis-9", key, hello("redis-9")).empty());
  EXPECT_TRUE(send("redis-9", key, report("redis-9", 1)).empty());
  EXPECT_EQ(metrics_.rejectedForTest("key_pending"), 3);
  EXPECT_FALSE(registry_.get("redis-9").has_value());
  clock_.advance(kKeyByeInterval);
  EXPECT_EQ(send("redis-9", key, hello("redis-9")).size(), 1u);
  // Accepted for the id it claimed: the next hello registers.
  ASSERT_TRUE(keys_->accept(key, "", "op").ok());
  replies = send("redis-9", key, hello("redis-9"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].second.type(), protocol::MessageType::kWelcome);
}

TEST_F(IngestKeysTest, ARefusedAgentIsAskedToSayHelloAsSoonAsItsKeyIsAccepted) {
  const std::string key = enroll("");
  const std::string other = enroll("");
  ASSERT_EQ(send("redis-9", key, hello("redis-9")).size(), 1u);  // bye: awaits enrollment
  ASSERT_EQ(send("redis-8", other, hello("redis-8")).size(), 1u);
  std::vector<Reply> replies;
  core_->nudgeEnrolled(replies);
  EXPECT_TRUE(replies.empty()) << "still pending";
  ASSERT_TRUE(keys_->accept(key, "", "op").ok());
  ASSERT_TRUE(keys_->reject(other, "op").ok());
  core_->nudgeEnrolled(replies);
  auto nudges = decoded(replies);
  ASSERT_EQ(nudges.size(), 1u) << "only the accepted one; the rejected one is forgotten";
  EXPECT_EQ(nudges[0].first, "redis-9");
  EXPECT_EQ(std::get<protocol::Ack>(nudges[0].second.body).error, "hello_required");
  replies.clear();
  core_->nudgeEnrolled(replies);
  EXPECT_TRUE(replies.empty()) << "once";
  auto welcome = send("redis-9", key, hello("redis-9"));
  ASSERT_EQ(welcome.size(), 1u);
  EXPECT_EQ(welcome[0].second.type(), protocol::MessageType::kWelcome);
}

TEST_F(IngestKeysTest, AutoAcceptLetsTheFirstHelloThrough) {
  KeyRegistryOptions options;
  options.auto_accept = true;
  start(options);
  const std::string key = enroll("");
  auto replies = send("dev-1", key, hello("dev-1"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].second.type(), protocol::MessageType::kWelcome);
  EXPECT_EQ(keys_->get(key)->state, KeyState::kAccepted);
  EXPECT_EQ(keys_->get(key)->agent_id, "dev-1");
  // Another key claiming the same id is not auto-accepted.
  const std::string other = enroll("");
  replies = send("dev-1", other, hello("dev-1"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].second.type(), protocol::MessageType::kBye);
}

TEST_F(IngestKeysTest, RevokeClosesOnlyThatAgentsSession) {
  const std::string key_a = enroll("redis-1");
  const std::string key_b = enroll("redis-2");
  send("redis-1", key_a, hello("redis-1"));
  send("redis-2", key_b, hello("redis-2"));
  ASSERT_TRUE(keys_->revoke(key_a, "op").ok());
  std::vector<Reply> replies;
  core_->applyKeyChanges(replies);
  auto byes = decoded(replies);
  ASSERT_EQ(byes.size(), 1u);
  EXPECT_EQ(byes[0].first, "redis-1");
  EXPECT_EQ(std::get<protocol::Bye>(byes[0].second.body).reason, "key revoked");
  EXPECT_FALSE(core_->hasSession("redis-1"));
  EXPECT_TRUE(core_->hasSession("redis-2"));
  // A's further messages are dropped; B carries on.
  EXPECT_TRUE(send("redis-1", key_a, report("redis-1", 1)).empty());
  EXPECT_EQ(metrics_.rejectedForTest("key_revoked"), 1);
  auto ack = send("redis-2", key_b, report("redis-2", 1));
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(ack[0].second.body).seq, 1u);
}

TEST_F(IngestKeysTest, AMessageWithoutAKeyIsNeverTrusted) {
  EXPECT_TRUE(send("redis-1", "", hello("redis-1")).empty());
  EXPECT_EQ(metrics_.rejectedForTest("key_unknown"), 1);
  EXPECT_FALSE(registry_.get("redis-1").has_value());
}

}  // namespace
}  // namespace noa::controller
