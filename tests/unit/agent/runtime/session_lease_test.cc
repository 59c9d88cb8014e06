// The session turns an ack's lease into a deadline counted from when the acked report was sent
// (never later than the controller's), and grants nothing for acks without a lease, with an
// error, or for a report it never sent. A real DEALER/ROUTER pair over loopback.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "agent/session/session.h"
#include "common/protocol/codec.h"
#include "common/transport/router_socket.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

class StaticSource final : public ReportSource {
 public:
  void fill(protocol::Report& report) override { report.role = "primary"; }
};

struct Grant {
  MonoTime deadline;
  uint64_t epoch;
};

TEST(SessionLease, GrantRunsFromTheAckedReportsSendTime) {
  zmq::context_t context(1);
  transport::RouterOptions router_options;
  router_options.bind_endpoint = "tcp://127.0.0.1:0";
  auto router = transport::RouterSocket::bind(context, router_options);
  ASSERT_TRUE(router.ok()) << router.status().toString();

  std::mutex mu;
  std::vector<Grant> grants;
  SessionOptions options;
  options.dealer.endpoint = (*router)->endpoint();
  options.hello.agent_id = "lease-agent";
  options.report_interval = 100ms;
  options.on_lease_grant = [&](MonoTime deadline, uint64_t epoch) {
    std::lock_guard<std::mutex> lock(mu);
    grants.push_back({deadline, epoch});
  };
  StaticSource source;
  SystemClock clock;
  Session session(context, options, clock, source);
  StopToken stop;
  const MonoTime started = clock.now();
  std::thread runner([&] { session.run(stop); });

  // The stand-in controller: welcome, then per report one ack of each kind; only the first
  // may grant.
  MonoTime first_ack_sent{};
  int reports = 0;
  uint64_t ids = 0;
  auto send = [&](const std::string& peer, protocol::Body body) {
    protocol::Envelope env;
    env.id = "c-" + std::to_string(++ids);
    env.from = "ctl";
    env.body = std::move(body);
    ASSERT_TRUE((*router)->send(peer, protocol::encode(env)).ok());
  };
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (reports < 1 && std::chrono::steady_clock::now() < until) {
    auto received = (*router)->receive(50ms);
    ASSERT_TRUE(received.ok());
    if (!received->has_value()) continue;
    auto env = protocol::decode((*received)->payload);
    ASSERT_TRUE(env.ok());
    const std::string peer = (*received)->peer;
    if (env->type() == protocol::MessageType::kHello) {
      protocol::Welcome w;
      w.agent_id = peer;
      send(peer, w);
    } else if (env->type() == protocol::MessageType::kReport) {
      ++reports;
      const uint64_t seq = std::get<protocol::Report>(env->body).seq;
      protocol::Ack no_lease{env->id, seq};
      send(peer, no_lease);
      protocol::Ack refused{env->id, seq, "store_unavailable"};
      refused.lease_ms = 700;
      send(peer, refused);
      protocol::Ack unknown{env->id, seq + 1000};
      unknown.lease_ms = 700;
      send(peer, unknown);
      protocol::Ack granted{env->id, seq};
      granted.lease_ms = 700;
      granted.leader_epoch = 5;
      first_ack_sent = clock.now();
      send(peer, granted);
    }
  }
  ASSERT_EQ(reports, 1);
  const auto wait_until = std::chrono::steady_clock::now() + 2s;
  while (std::chrono::steady_clock::now() < wait_until) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!grants.empty()) break;
    }
    std::this_thread::sleep_for(5ms);
  }
  std::this_thread::sleep_for(50ms);  // any wrong grant would have arrived by now
  stop.requestStop();
  runner.join();

  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(grants.size(), 1u);
  EXPECT_EQ(grants[0].epoch, 5u);
  // Sent after the session started, before the controller answered it.
  EXPECT_GE(grants[0].deadline, started + 700ms);
  EXPECT_LE(grants[0].deadline, first_ack_sent + 700ms);
}

}  // namespace
}  // namespace noa::agent
