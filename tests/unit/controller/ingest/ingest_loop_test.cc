// IngestLoop over real sockets: a plaintext ROUTER on 127.0.0.1 and one DEALER per agent, a
// real store. What is checked is how arrivals become passes (one commit each).

#include "controller/ingest/ingest_loop.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "common/transport/dealer_socket.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/ingest/agent_frames.h"
#include "tests/testing/status_matchers.h"

namespace noa::controller {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

class IngestLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/noa-ingest-loop-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = Store::open(StoreOptions{dir_ + "/db", true});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    transport::RouterOptions router_options;
    router_options.bind_endpoint = "tcp://127.0.0.1:0";
    auto router = transport::RouterSocket::bind(context_, router_options);
    ASSERT_OK(router);
    router_ = std::move(router).value();
    options_.controller_id = "ctl";
    options_.liveness = {milliseconds(1000), 3, 5};
    core_ = std::make_unique<IngestCore>(registry_, clock_, metrics_, options_);
  }
  void TearDown() override {
    agents_.clear();
    router_.reset();
    core_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  IngestLoop loop(IngestLoopOptions options) {
    options.restart_nudge_window = milliseconds(0);
    return IngestLoop(*router_, *store_, *core_, clock_, metrics_, options);
  }

  std::string encodeFrom(const std::string& from, protocol::Body body) {
    return frames_.encode(from, std::move(body));
  }

  // Connects agent `id` and has `loop` welcome it.
  transport::DealerSocket& connect(IngestLoop& loop, const std::string& id) {
    transport::DealerOptions options;
    options.endpoint = router_->endpoint();
    options.identity = id;
    auto dealer = transport::DealerSocket::connect(context_, options);
    EXPECT_OK(dealer);
    auto& agent = *agents_.emplace_back(std::move(dealer).value());
    protocol::Hello hello;
    hello.agent_id = id;
    hello.service = "web";
    hello.kind = "http";
    sendWhenConnected(agent, encodeFrom(id, hello));
    EXPECT_OK(loop.pollOnce(milliseconds(5000)));
    EXPECT_EQ(typeOfReply(agent), protocol::MessageType::kWelcome);
    return agent;
  }

  // ZMQ_IMMEDIATE refuses sends until the connection is up.
  static void sendWhenConnected(transport::DealerSocket& agent, const std::string& payload) {
    for (int i = 0; i < 500; ++i) {
      if (agent.send(payload).ok()) return;
      std::this_thread::sleep_for(milliseconds(10));
    }
    ADD_FAILURE() << "agent never connected";
  }

  protocol::MessageType typeOfReply(transport::DealerSocket& agent) {
    auto reply = agent.receive(milliseconds(5000));
    EXPECT_OK(reply);
    if (!reply.ok() || !reply->has_value()) return protocol::MessageType::kBye;
    auto env = protocol::decode(**reply);
    EXPECT_OK(env);
    return env.ok() ? env->type() : protocol::MessageType::kBye;
  }

  std::string report(const std::string& id) {
    protocol::Report r;
    r.seq = ++seq_;
    r.health.state = "healthy";
    r.health.live = r.health.ready = r.health.started = true;
    r.metrics = {{"cpu_usage_cores", 0.25}};
    return encodeFrom(id, r);
  }

  // noa_ingest_drain_messages: {passes, messages}.
  std::pair<uint64_t, double> drains() {
    for (const auto& family : prom_.Collect()) {
      if (family.name != "noa_ingest_drain_messages") continue;
      const auto& histogram = family.metric.at(0).histogram;
      return {histogram.sample_count, histogram.sample_sum};
    }
    ADD_FAILURE() << "noa_ingest_drain_messages not registered";
    return {0, 0};
  }

  std::string dir_;
  zmq::context_t context_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<transport::RouterSocket> router_;
  std::vector<std::unique_ptr<transport::DealerSocket>> agents_;
  testing::FakeClock clock_;
  prometheus::Registry prom_;
  ControllerMetrics metrics_{prom_};
  Registry registry_;
  IngestOptions options_;
  std::unique_ptr<IngestCore> core_;
  noa::testing::AgentFrames frames_{clock_};
  uint64_t seq_ = 0;
};

TEST_F(IngestLoopTest, WithoutAGatherWindowAPassTakesWhatHasArrived) {
  IngestLoop loop = this->loop({});
  auto& a = connect(loop, "a");
  auto& b = connect(loop, "b");
  const auto before = drains();
  ASSERT_OK(a.send(report("a")));
  ASSERT_OK(loop.pollOnce(milliseconds(5000)));
  EXPECT_EQ(typeOfReply(a), protocol::MessageType::kAck);
  ASSERT_OK(b.send(report("b")));
  ASSERT_OK(loop.pollOnce(milliseconds(5000)));
  EXPECT_EQ(typeOfReply(b), protocol::MessageType::kAck);
  const auto after = drains();
  EXPECT_EQ(after.first - before.first, 2u);
  EXPECT_EQ(after.second - before.second, 2.0);
}

// Two reports 50 ms apart, the first just after a pass that emptied the socket: with a 1.5 s
// window the next pass starts 1.5 s after that one did and takes both, in one commit. The
// window is wide so that a slow pass before (TSan made one take 250 ms) cannot eat it; the pass
// counts are what shows the gathering, not the clock.
TEST_F(IngestLoopTest, AGatherWindowMakesOnePassOfTheReportsArrivingWithinIt) {
  IngestLoopOptions options;
  options.gather_window = milliseconds(1500);
  IngestLoop loop = this->loop(options);
  auto& a = connect(loop, "a");
  auto& b = connect(loop, "b");  // this pass emptied the socket: the window starts with it
  const auto before = drains();
  ASSERT_OK(a.send(report("a")));
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_OK(b.send(report("b")));
  ASSERT_OK(loop.pollOnce(milliseconds(5000)));
  EXPECT_EQ(typeOfReply(a), protocol::MessageType::kAck);
  EXPECT_EQ(typeOfReply(b), protocol::MessageType::kAck);
  const auto after = drains();
  EXPECT_EQ(after.first - before.first, 1u);
  EXPECT_EQ(after.second - before.second, 2.0);
  EXPECT_EQ(registry_.get("b")->last_seq, seq_);
}

// A pass that stopped at max_drain left messages behind: the next one takes them at once,
// however long the window (a minute here: waiting for it would time the test out).
TEST_F(IngestLoopTest, APassAfterAFullDrainDoesNotWaitForTheWindow) {
  IngestLoopOptions options;
  options.gather_window = std::chrono::minutes(1);
  options.max_drain = 2;
  IngestLoopOptions welcoming;
  welcoming.max_drain = 2;
  IngestLoop loop = this->loop(welcoming);
  auto& a = connect(loop, "a");
  auto& b = connect(loop, "b");
  auto& c = connect(loop, "c");
  IngestLoop gathering = this->loop(options);
  ASSERT_OK(a.send(report("a")));
  ASSERT_OK(b.send(report("b")));
  ASSERT_OK(c.send(report("c")));
  std::this_thread::sleep_for(milliseconds(200));  // all three are in the ROUTER's pipes
  const auto before = drains();
  ASSERT_OK(gathering.pollOnce(milliseconds(5000)));  // the first pass never waits
  ASSERT_OK(gathering.pollOnce(milliseconds(5000)));
  const auto after = drains();
  EXPECT_EQ(after.first - before.first, 2u);
  EXPECT_EQ(after.second - before.second, 3.0);
  for (auto* agent : {&a, &b, &c}) EXPECT_EQ(typeOfReply(*agent), protocol::MessageType::kAck);
}

// With checkpoints the stored record trails its reports (history has them); a clean stop's
// flushRecords() writes every record that does, so the next start finds them current.
TEST_F(IngestLoopTest, FlushRecordsWritesTheRecordsThatTrailTheirReports) {
  options_.record_checkpoint_every = std::chrono::hours(1);
  core_ = std::make_unique<IngestCore>(registry_, clock_, metrics_, options_);
  IngestLoop loop = this->loop({});
  auto& a = connect(loop, "a");
  ASSERT_OK(a.send(report("a")));
  ASSERT_OK(loop.pollOnce(milliseconds(5000)));
  EXPECT_EQ(typeOfReply(a), protocol::MessageType::kAck);
  auto trailing = store_->getAgent("a");
  ASSERT_OK(trailing);
  ASSERT_TRUE(trailing->has_value());
  EXPECT_EQ((*trailing)->last_seq, 0u) << "written at hello, not at the report";

  ASSERT_OK(loop.flushRecords());
  auto flushed = store_->getAgent("a");
  ASSERT_OK(flushed);
  ASSERT_TRUE(flushed->has_value());
  EXPECT_EQ((*flushed)->last_seq, seq_);
  EXPECT_TRUE((*flushed)->has_report);
}

}  // namespace
}  // namespace noa::controller
