#include "controller/ingest/ingest_core.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <vector>

#include "controller/store/history_refresh.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/ingest/agent_frames.h"

namespace noa::controller {
namespace {

using std::chrono::milliseconds;
namespace fs = std::filesystem;

class IngestCoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/noa-ingest-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = Store::open(StoreOptions{dir_ + "/db", true});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    options_.controller_id = "ctl";
    options_.liveness = {milliseconds(1000), 3, 5};
    core_ = std::make_unique<IngestCore>(registry_, clock_, metrics_, options_);
  }
  void TearDown() override {
    core_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string encodeFrom(const std::string& from, protocol::Body body, uint32_t v = 1) {
    return frames_.encode(from, std::move(body), v);
  }
  protocol::Hello hello(const std::string& id) {
    protocol::Hello h;
    h.agent_id = id;
    h.service = "redis";
    h.kind = "redis";
    h.host = "node-1";
    h.agent_version = "0.1.0";
    return h;
  }
  protocol::Report report(uint64_t seq) {
    protocol::Report r;
    r.seq = seq;
    r.health.state = "healthy";
    r.health.live = r.health.ready = r.health.started = true;
    r.metrics = {{"cpu_usage_cores", 0.25}};
    return r;
  }
  // Handles one message and commits the batch like the loop does; returns the replies.
  std::vector<protocol::Envelope> send(const std::string& peer, const std::string& payload) {
    Store::Batch batch;
    std::vector<Reply> replies;
    core_->handle(peer, payload, 0, batch, replies);
    core_->flushDirty(batch);
    EXPECT_OK(store_->commit(batch));
    std::vector<protocol::Envelope> out;
    for (const auto& r : replies) {
      EXPECT_EQ(r.peer, peer);
      auto env = protocol::decode(r.payload);
      EXPECT_TRUE(env.ok()) << env.status().toString();
      if (env.ok()) out.push_back(*env);
    }
    return out;
  }
  void sweep() {
    Store::Batch batch;
    core_->sweepLiveness(batch);
    ASSERT_OK(store_->commit(batch));
  }

  std::string dir_;
  testing::FakeClock clock_;
  prometheus::Registry prom_;
  ControllerMetrics metrics_{prom_};
  Registry registry_;
  IngestOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<IngestCore> core_;
  noa::testing::AgentFrames frames_{clock_};
};

TEST_F(IngestCoreTest, HelloIsWelcomedRegisteredAndStored) {
  auto replies = send("r1", encodeFrom("r1", hello("r1")));
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].type(), protocol::MessageType::kWelcome);
  EXPECT_EQ(std::get<protocol::Welcome>(replies[0].body).agent_id, "r1");
  EXPECT_EQ(std::get<protocol::Welcome>(replies[0].body).report_interval_ms, 1000u);
  EXPECT_EQ(registry_.get("r1")->hello.service, "redis");
  auto stored = store_->getAgent("r1");
  ASSERT_OK(stored);
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->hello.host, "node-1");
}

TEST_F(IngestCoreTest, ReportIsAckedStoredInHistoryAndUpdatesTheRecord) {
  send("r1", encodeFrom("r1", hello("r1")));
  auto replies = send("r1", encodeFrom("r1", report(1)));
  ASSERT_EQ(replies.size(), 1u);
  const auto& ack = std::get<protocol::Ack>(replies[0].body);
  EXPECT_EQ(ack.error, "");
  EXPECT_EQ(ack.seq, 1u);
  EXPECT_EQ(registry_.get("r1")->last_report.health.state, "healthy");
  auto history = store_->readHistory("r1", 0, 10);
  ASSERT_OK(history);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].report.metrics[0].name, "cpu_usage_cores");
}

// Each report is decoded into the metric names of the one it replaced, often another agent's
// (protocol::DecodeScratch): every record must still show exactly its own newest report.
TEST_F(IngestCoreTest, EachRecordShowsItsOwnReportWhateverWasDecodedBefore) {
  const std::vector<std::string> agents = {"r1", "r2", "r3"};
  for (const auto& id : agents) send(id, encodeFrom(id, hello(id)));
  std::map<std::string, std::vector<protocol::Metric>> sent;
  for (uint64_t seq = 1; seq <= 6; ++seq) {
    for (size_t a = 0; a < agents.size(); ++a) {
      protocol::Report r = report(seq);
      r.metrics.clear();
      // Between 0 and 12 metrics, names of several lengths, different for every agent and seq.
      const size_t count = (seq * 5 + a * 7) % 13;
      for (size_t i = 0; i < count; ++i) {
        r.metrics.push_back({agents[a] + std::string(i * 3, 'm') + std::to_string(seq),
                             static_cast<double>(seq * 100 + i)});
      }
      sent[agents[a]] = r.metrics;
      auto replies = send(agents[a], encodeFrom(agents[a], r));
      ASSERT_EQ(replies.size(), 1u);
      EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "");
      for (const auto& id : agents) {
        if (sent.count(id) == 0) continue;
        EXPECT_EQ(registry_.get(id)->last_report.metrics, sent[id]) << id << " after seq " << seq;
      }
    }
    // A stale report and one without a session are decoded too, and change nothing.
    send("r1", encodeFrom("r1", report(1)));
    send("nobody", encodeFrom("nobody", report(seq)));
    EXPECT_EQ(registry_.get("r1")->last_report.metrics, sent["r1"]);
  }
  EXPECT_EQ(metrics_.messagesForTest(protocol::MessageType::kHello), 3);
  EXPECT_EQ(metrics_.messagesForTest(protocol::MessageType::kReport), 6 * 3 + 6 * 2);
  EXPECT_EQ(metrics_.messagesForTest(protocol::MessageType::kResult), 0);
}

TEST_F(IngestCoreTest, WithCheckpointsTheRecordTrailsAndARestartTakesTheNewestReportFromHistory) {
  options_.record_checkpoint_every = milliseconds(5000);
  core_ = std::make_unique<IngestCore>(registry_, clock_, metrics_, options_);
  send("r1", encodeFrom("r1", hello("r1")));
  clock_.advance(milliseconds(1000));
  send("r1", encodeFrom("r1", report(1)));
  clock_.advance(milliseconds(1000));
  send("r1", encodeFrom("r1", report(2)));
  // The hello was written at once; the reports only to history so far.
  EXPECT_EQ(store_->getAgent("r1").value()->last_seq, 0u);
  EXPECT_EQ(store_->readHistory("r1", 0, 10)->size(), 2u);

  // A kill -9 now: the next start brings the record up to its newest history entry.
  auto loaded = store_->loadAgents();
  ASSERT_OK(loaded);
  auto refreshed = refreshFromHistory(*store_, *loaded);
  ASSERT_OK(refreshed);
  EXPECT_EQ(*refreshed, 1u);
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ((*loaded)[0].last_seq, 2u);
  EXPECT_TRUE((*loaded)[0].has_report);
  EXPECT_EQ((*loaded)[0].last_report.health.state, "healthy");
  EXPECT_EQ((*loaded)[0].last_seen_ms, registry_.get("r1")->last_seen_ms);
  // Refreshing a record that is already current changes nothing.
  EXPECT_EQ(refreshFromHistory(*store_, *loaded).value(), 0u);

  // The checkpoint: 5 s after the first unwritten report.
  clock_.advance(milliseconds(4000));
  send("r1", encodeFrom("r1", report(3)));
  EXPECT_EQ(store_->getAgent("r1").value()->last_seq, 3u);

  // A clean stop writes what is not due yet.
  clock_.advance(milliseconds(1000));
  send("r1", encodeFrom("r1", report(4)));
  EXPECT_EQ(store_->getAgent("r1").value()->last_seq, 3u);
  Store::Batch batch;
  core_->flushDirty(batch, true);
  ASSERT_OK(store_->commit(batch));
  EXPECT_EQ(store_->getAgent("r1").value()->last_seq, 4u);
}

TEST_F(IngestCoreTest, WithCheckpointsAReturnFromSuspectIsWrittenAtOnce) {
  options_.record_checkpoint_every = milliseconds(60000);
  core_ = std::make_unique<IngestCore>(registry_, clock_, metrics_, options_);
  send("r1", encodeFrom("r1", hello("r1")));
  clock_.advance(milliseconds(3500));
  Store::Batch batch;
  core_->sweepLiveness(batch);
  ASSERT_OK(store_->commit(batch));
  EXPECT_EQ(store_->getAgent("r1").value()->liveness, Liveness::kSuspect);
  send("r1", encodeFrom("r1", report(1)));
  EXPECT_EQ(store_->getAgent("r1").value()->liveness, Liveness::kAlive);
  EXPECT_EQ(store_->getAgent("r1").value()->last_seq, 1u);
}

TEST_F(IngestCoreTest, ReportBeforeHelloAsksForHelloAndIsNotStored) {
  auto replies = send("r1", encodeFrom("r1", report(1)));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "hello_required");
  EXPECT_FALSE(registry_.get("r1").has_value());
  EXPECT_EQ(metrics_.rejectedForTest("no_session"), 1);
}

TEST_F(IngestCoreTest, StaleOrDuplicateReportIsNotStoredAgain) {
  send("r1", encodeFrom("r1", hello("r1")));
  send("r1", encodeFrom("r1", report(5)));
  auto replies = send("r1", encodeFrom("r1", report(5)));
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).seq, 5u);
  send("r1", encodeFrom("r1", report(4)));
  EXPECT_EQ(metrics_.rejectedForTest("stale"), 2);
  EXPECT_EQ(store_->readHistory("r1", 0, 10)->size(), 1u);
}

TEST_F(IngestCoreTest, BadInputIsRejectedCountedAndHarmless) {
  send("r1", encodeFrom("r1", hello("r1")));
  send("r1", encodeFrom("r1", report(1)));

  EXPECT_TRUE(send("r1", "\xc1\xff garbage").empty());
  EXPECT_EQ(metrics_.rejectedForTest("malformed"), 1);

  EXPECT_TRUE(send("r1", std::string(70 * 1024, 'x')).empty());
  EXPECT_EQ(metrics_.rejectedForTest("oversized"), 1);

  // Another major version: refused with a bye that says why.
  auto replies = send("r1", encodeFrom("r1", hello("r1"), 2));
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].type(), protocol::MessageType::kBye);
  EXPECT_NE(std::get<protocol::Bye>(replies[0].body).reason.find("incompatible protocol version 2"),
            std::string::npos);
  EXPECT_EQ(metrics_.rejectedForTest("bad_version"), 1);

  // A message claiming to be from another agent.
  EXPECT_TRUE(send("r1", encodeFrom("r2", report(2))).empty());
  EXPECT_EQ(metrics_.rejectedForTest("identity_mismatch"), 1);

  // Agents may not send controller messages.
  EXPECT_TRUE(send("r1", encodeFrom("r1", protocol::Welcome{})).empty());
  EXPECT_EQ(metrics_.rejectedForTest("unexpected_type"), 1);

  // Multi-frame message.
  Store::Batch batch;
  std::vector<Reply> out;
  core_->handle("r1", encodeFrom("r1", report(3)), 1, batch, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(metrics_.rejectedForTest("malformed"), 2);

  // Nothing stored was lost and the agent still works.
  EXPECT_EQ(registry_.get("r1")->last_seq, 1u);
  auto ok = send("r1", encodeFrom("r1", report(2)));
  EXPECT_EQ(std::get<protocol::Ack>(ok[0].body).error, "");
  EXPECT_EQ(store_->readHistory("r1", 0, 10)->size(), 2u);
}

TEST_F(IngestCoreTest, SilentAgentBecomesSuspectThenLostAndAliveAfterHelloAgain) {
  send("r1", encodeFrom("r1", hello("r1")));
  send("r2", encodeFrom("r2", hello("r2")));
  for (int i = 1; i <= 4; ++i) {
    clock_.advance(milliseconds(1000));
    send("r2", encodeFrom("r2", report(i)));
    sweep();
  }
  EXPECT_EQ(registry_.get("r1")->liveness, Liveness::kSuspect);
  EXPECT_EQ(registry_.get("r2")->liveness, Liveness::kAlive);
  clock_.advance(milliseconds(1500));
  send("r2", encodeFrom("r2", report(5)));
  sweep();
  EXPECT_EQ(registry_.get("r1")->liveness, Liveness::kLost);
  EXPECT_EQ(metrics_.transitionsForTest("lost"), 1);
  EXPECT_EQ((*store_->getAgent("r1"))->liveness, Liveness::kLost);

  // A lost agent must say hello again before its reports count.
  auto replies = send("r1", encodeFrom("r1", report(1)));
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "hello_required");
  send("r1", encodeFrom("r1", hello("r1")));
  EXPECT_EQ(registry_.get("r1")->liveness, Liveness::kAlive);
  EXPECT_EQ(metrics_.transitionsForTest("alive"), 1);
}

TEST_F(IngestCoreTest, ResultsForUnknownCommandsAreRefusedSoAgentsStopResending) {
  send("r1", encodeFrom("r1", hello("r1")));
  protocol::CommandResult result;
  result.command_id = "c-1";
  result.status = "succeeded";
  auto replies = send("r1", encodeFrom("r1", result));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "rejected");
}

}  // namespace
}  // namespace noa::controller
