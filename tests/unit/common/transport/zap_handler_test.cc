// The ZAP handler with real CURVE sockets on 127.0.0.1: what it decides is what the ROUTER
// lets through, and the User-Id it gives reaches every message.

#include "common/transport/zap_handler.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/transport/curve_keys.h"
#include "common/transport/dealer_socket.h"
#include "common/transport/router_socket.h"

namespace noa::transport {
namespace {

using namespace std::chrono_literals;

class ZapHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = generateKeyPair().value();
    allowed_ = generateKeyPair().value();
    auto zap = ZapHandler::start(context_, [this](const ZapRequest& req) {
      std::lock_guard lock(mu_);
      seen_.push_back(req);
      if (req.public_key == allowed_.public_key) return ZapDecision{true, "allowed-id", "OK"};
      return ZapDecision{false, "", "unknown key"};
    });
    ASSERT_TRUE(zap.ok()) << zap.status().toString();
    zap_ = std::move(zap).value();
    RouterOptions options;
    options.bind_endpoint = "tcp://127.0.0.1:*";
    options.curve_secret_key = server_.secret_key;
    auto router = RouterSocket::bind(context_, options);
    ASSERT_TRUE(router.ok()) << router.status().toString();
    router_ = std::move(router).value();
  }

  std::unique_ptr<DealerSocket> dealer(const std::string& id, const CurveKeyPair& keys) {
    DealerOptions options;
    options.endpoint = router_->endpoint();
    options.identity = id;
    options.curve_server_key = server_.public_key;
    options.curve_public_key = keys.public_key;
    options.curve_secret_key = keys.secret_key;
    return DealerSocket::connect(context_, options).value();
  }

  // Sends until the router hears something (the first sends may precede the handshake).
  std::optional<IncomingMessage> exchange(DealerSocket& d, std::chrono::milliseconds budget) {
    const auto until = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < until) {
      (void)d.send("ping");
      auto got = router_->receive(50ms);
      if (got.ok() && got->has_value()) return **got;
    }
    return std::nullopt;
  }

  zmq::context_t context_{1};
  CurveKeyPair server_;
  CurveKeyPair allowed_;
  std::mutex mu_;
  std::vector<ZapRequest> seen_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<RouterSocket> router_;
};

TEST_F(ZapHandlerTest, AnAllowedKeyGetsThroughWithItsUserId) {
  auto d = dealer("agent-1", allowed_);
  auto msg = exchange(*d, 5s);
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(msg->peer, "agent-1");
  EXPECT_EQ(msg->payload, "ping");
  EXPECT_EQ(msg->user_id, "allowed-id");
  std::lock_guard lock(mu_);
  ASSERT_FALSE(seen_.empty());
  EXPECT_EQ(seen_[0].mechanism, "CURVE");
  EXPECT_EQ(seen_[0].public_key, allowed_.public_key);
  EXPECT_EQ(seen_[0].address, "127.0.0.1");
  EXPECT_EQ(seen_[0].domain, "noa");
}

TEST_F(ZapHandlerTest, ADeniedKeyNeverDeliversAMessage) {
  auto d = dealer("intruder", generateKeyPair().value());
  EXPECT_FALSE(exchange(*d, 1500ms).has_value());
  std::lock_guard lock(mu_);
  EXPECT_FALSE(seen_.empty()) << "the handshake should have been decided by the handler";
}

TEST_F(ZapHandlerTest, AClientWithTheWrongServerKeyFailsTheHandshake) {
  DealerOptions options;
  options.endpoint = router_->endpoint();
  options.identity = "lost";
  options.curve_server_key = generateKeyPair()->public_key;  // not the controller's
  options.curve_public_key = allowed_.public_key;
  options.curve_secret_key = allowed_.secret_key;
  auto d = DealerSocket::connect(context_, options).value();
  EXPECT_FALSE(exchange(*d, 1500ms).has_value());
}

TEST_F(ZapHandlerTest, APlaintextClientIsNotServed) {
  DealerOptions options;
  options.endpoint = router_->endpoint();
  options.identity = "plain";
  auto d = DealerSocket::connect(context_, options).value();
  EXPECT_FALSE(exchange(*d, 1500ms).has_value());
}

}  // namespace
}  // namespace noa::transport
