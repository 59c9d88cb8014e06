#include "controller/security/key_registry.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <fstream>

#include "common/transport/curve_keys.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/harness/child_process.h"

namespace noa::controller {
namespace {

using namespace std::chrono_literals;

class KeyRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen(KeyRegistryOptions options = {}) {
    keys_.reset();
    store_.reset();
    store_ = Store::open(StoreOptions{dir_.path() + "/db", true}).value();
    auto keys = KeyRegistry::open(*store_, clock_, options, &metrics_);
    ASSERT_TRUE(keys.ok()) << keys.status().toString();
    keys_ = std::move(keys).value();
  }

  // A handshake of `key` from 10.0.0.1, as the ZAP handler would ask.
  transport::ZapDecision connect(const std::string& key) {
    return keys_->authenticate({"noa", "10.0.0.1", "CURVE", key});
  }

  static std::string newKey() { return transport::generateKeyPair()->public_key; }
  static std::string idOf(const std::string& key) { return transport::keyIdOf(key).value(); }

  noa::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  prometheus::Registry prom_;
  KeyMetrics metrics_{prom_};
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeyRegistry> keys_;
};

TEST_F(KeyRegistryTest, AnUnknownKeyBecomesPendingAndIsAdmittedOnlyAsPending) {
  const std::string key = newKey();
  auto decision = connect(key);
  EXPECT_TRUE(decision.allow);
  EXPECT_EQ(decision.user_id, idOf(key));
  auto record = keys_->get(idOf(key));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, KeyState::kPending);
  EXPECT_EQ(record->address, "10.0.0.1");
  EXPECT_EQ(record->source, "connect");
  EXPECT_EQ(record->attempts, 1u);
  EXPECT_EQ(keys_->binding(idOf(key))->state, KeyState::kPending);
  EXPECT_EQ(metrics_.zapForTest("new_pending"), 1);
  connect(key);
  EXPECT_EQ(keys_->get(idOf(key))->attempts, 2u);
  EXPECT_EQ(metrics_.zapForTest("pending"), 1);
  EXPECT_EQ(metrics_.keysForTest(KeyState::kPending), 1);
}

TEST_F(KeyRegistryTest, AcceptRejectRevokeFollowTheStateMachine) {
  const std::string a = newKey(), b = newKey();
  connect(a);
  connect(b);
  // Nothing claimed and no id given.
  EXPECT_EQ(keys_->accept(idOf(a), "", "alice").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(keys_->accept("0000000000000000", "x", "alice").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys_->accept(idOf(a), "bad id", "alice").status().code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(keys_->recordClaim(idOf(a), "redis-1", "redis", "node-1").ok());
  const uint64_t generation = keys_->generation();
  auto accepted = keys_->accept(idOf(a), "", "alice");
  ASSERT_TRUE(accepted.ok()) << accepted.status().toString();
  EXPECT_EQ(accepted->agent_id, "redis-1");
  EXPECT_EQ(accepted->changed_by, "alice");
  EXPECT_GT(keys_->generation(), generation);
  EXPECT_TRUE(connect(a).allow);
  // The same agent id cannot be bound twice.
  EXPECT_EQ(keys_->accept(idOf(b), "redis-1", "alice").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(keys_->reject(idOf(a), "alice").status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(keys_->reject(idOf(b), "alice").ok());
  EXPECT_FALSE(connect(b).allow);
  EXPECT_EQ(metrics_.zapForTest("rejected"), 1);

  auto revoked = keys_->revoke(idOf(a), "bob");
  ASSERT_TRUE(revoked.ok());
  EXPECT_EQ(revoked->agent_id, "redis-1");
  EXPECT_FALSE(connect(a).allow);
  EXPECT_EQ(keys_->accept(idOf(a), "redis-1", "bob").status().code(),
            StatusCode::kFailedPrecondition);
  auto taken = keys_->takeRevoked();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].agent_id, "redis-1");
  EXPECT_TRUE(keys_->takeRevoked().empty());
  // A new key may now take the agent id.
  EXPECT_TRUE(keys_->accept(idOf(b), "redis-1", "bob").ok());
}

TEST_F(KeyRegistryTest, StatesSurviveAReopenOfTheStore) {
  const std::string a = newKey(), b = newKey();
  connect(a);
  connect(b);
  ASSERT_TRUE(keys_->accept(idOf(a), "pg-1", "alice").ok());
  ASSERT_TRUE(keys_->revoke(idOf(b), "alice").ok());
  reopen();
  ASSERT_EQ(keys_->list().size(), 2u);
  EXPECT_EQ(keys_->get(idOf(a))->state, KeyState::kAccepted);
  EXPECT_EQ(keys_->get(idOf(a))->agent_id, "pg-1");
  EXPECT_EQ(keys_->get(idOf(a))->public_key, a);
  EXPECT_EQ(keys_->get(idOf(b))->state, KeyState::kRevoked);
  EXPECT_FALSE(connect(b).allow);
}

TEST_F(KeyRegistryTest, NewPendingKeysAreRateLimitedAndBounded) {
  KeyRegistryOptions options;
  options.new_pending_per_second = 1;
  options.new_pending_burst = 3;
  options.max_pending_keys = 5;
  reopen(options);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(connect(newKey()).allow) << i;
  EXPECT_FALSE(connect(newKey()).allow);  // burst spent
  EXPECT_EQ(metrics_.zapForTest("over_limit"), 1);
  clock_.advance(2s);
  EXPECT_TRUE(connect(newKey()).allow);
  EXPECT_TRUE(connect(newKey()).allow);
  clock_.advance(10s);
  EXPECT_FALSE(connect(newKey()).allow);  // 5 pending: the bound
  EXPECT_EQ(keys_->list().size(), 5u);
}

TEST_F(KeyRegistryTest, AllowlistAcceptsKeysAndIsReReadWhenItChanges) {
  const std::string a = newKey(), b = newKey(), revoked = newKey();
  connect(revoked);
  ASSERT_TRUE(keys_->revoke(idOf(revoked), "alice").ok());
  const std::string file = dir_.path() + "/allowlist";
  std::ofstream(file) << "# test\nredis-1 " << a << "\nold-1 " << revoked << "\n";
  KeyRegistryOptions options;
  options.allowlist_file = file;
  reopen(options);
  EXPECT_EQ(keys_->get(idOf(a))->state, KeyState::kAccepted);
  EXPECT_EQ(keys_->get(idOf(a))->source, "allowlist");
  EXPECT_EQ(keys_->get(idOf(revoked))->state, KeyState::kRevoked);  // revocation wins

  connect(b);  // pending
  std::ofstream(file, std::ios::app) << "redis-2 " << b << "\n";
  clock_.advance(2s);
  ASSERT_TRUE(keys_->refreshAllowlist().ok());
  EXPECT_EQ(keys_->binding(idOf(b))->state, KeyState::kAccepted);
  EXPECT_EQ(keys_->binding(idOf(b))->agent_id, "redis-2");

  std::ofstream(file, std::ios::app) << "broken line\n";
  KeyRegistryOptions bad = options;
  keys_.reset();
  store_.reset();
  store_ = Store::open(StoreOptions{dir_.path() + "/db", true}).value();
  auto refused = KeyRegistry::open(*store_, clock_, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find(file + ":5"), std::string::npos)
      << refused.status().message();
}

TEST_F(KeyRegistryTest, AFleetAllowlistIsAppliedWholeInOneCommit) {
  // 2,000 agents: one synced commit for the file (one per line took 34 s for 5,000), and what
  // was stored is what a restart sees.
  const std::string file = dir_.path() + "/allowlist";
  std::vector<std::string> fleet;
  {
    std::ofstream out(file);
    for (int i = 0; i < 2000; ++i) {
      fleet.push_back(newKey());
      out << "agent-" << i << " " << fleet.back() << "\n";
    }
  }
  KeyRegistryOptions options;
  options.allowlist_file = file;
  reopen(options);
  for (int i : {0, 1, 999, 1999}) {
    const auto key = keys_->binding(idOf(fleet[i]));
    ASSERT_TRUE(key.has_value()) << i;
    EXPECT_EQ(key->state, KeyState::kAccepted) << i;
    EXPECT_EQ(key->agent_id, "agent-" + std::to_string(i));
  }
  EXPECT_TRUE(connect(fleet[1999]).allow);
  reopen(options);
  EXPECT_EQ(keys_->binding(idOf(fleet[1]))->agent_id, "agent-1");
}

TEST_F(KeyRegistryTest, AutoAcceptBindsTheClaimedIdUnlessItIsTaken) {
  KeyRegistryOptions options;
  options.auto_accept = true;
  reopen(options);
  const std::string a = newKey(), b = newKey();
  connect(a);
  connect(b);
  auto accepted = keys_->autoAccept(idOf(a), "redis-1");
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(accepted->source, "auto-accept");
  EXPECT_EQ(keys_->autoAccept(idOf(b), "redis-1").status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace noa::controller
