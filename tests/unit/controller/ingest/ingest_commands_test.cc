// IngestCore with a CommandBook, no sockets: commands go out only within a session, after the
// welcome; results are stored before their ack; unknown and foreign results are answered
// "rejected"; replays are acknowledged and not applied twice; a controller restart (a new core
// and book over the same store) sends unfinished commands again at the agent's next hello.

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "controller/ingest/ingest_core.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/ingest/agent_frames.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller {
namespace {

using std::chrono::milliseconds;

class IngestCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override { restart(); }

  // A new controller process over the same store.
  void restart() {
    core_.reset();
    book_.reset();
    store_.reset();
    auto store = Store::open(StoreOptions{dir_.path() + "/db", true});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto book = commands::CommandBook::open(*store_, clock_);
    ASSERT_OK(book);
    book_ = std::move(book).value();
    registry_ = std::make_unique<Registry>();
    IngestOptions options;
    options.controller_id = "ctl";
    options.liveness = {milliseconds(1000), 3, 5};
    core_ = std::make_unique<IngestCore>(*registry_, clock_, metrics_, options, nullptr, book_.get());
  }

  std::string encodeFrom(const std::string& from, protocol::Body body) {
    return frames_.encode(from, std::move(body));
  }

  // Handles one message like the loop does (commit, then deliveries); returns the replies.
  std::vector<protocol::Envelope> send(const std::string& peer, protocol::Body body) {
    Store::Batch batch;
    std::vector<Reply> replies;
    core_->handle(peer, encodeFrom(peer, std::move(body)), 0, batch, replies);
    core_->applyPendingResults(replies);
    core_->flushDirty(batch);
    EXPECT_OK(store_->commit(batch));
    core_->deliverCommands(replies);
    return decodeAll(replies);
  }
  std::vector<protocol::Envelope> deliver() {
    std::vector<Reply> replies;
    core_->deliverCommands(replies);
    return decodeAll(replies);
  }
  static std::vector<protocol::Envelope> decodeAll(const std::vector<Reply>& replies) {
    std::vector<protocol::Envelope> out;
    for (const auto& r : replies) {
      auto env = protocol::decode(r.payload);
      EXPECT_OK(env);
      if (env.ok()) out.push_back(*env);
    }
    return out;
  }

  void hello(const std::string& id = "pg-1") {
    protocol::Hello h;
    h.agent_id = id;
    h.service = "postgres";
    h.kind = "postgres";
    h.capabilities = {"ping"};
    replies_ = send(id, h);
  }

  commands::CommandRecord create(const std::string& agent = "pg-1") {
    commands::NewCommand c;
    c.target = {agent, "postgres", ""};
    c.action = "ping";
    c.created_by = "test";
    auto r = book_->create(c);
    EXPECT_OK(r);
    return r.ok() ? *r : commands::CommandRecord{};
  }

  protocol::CommandResult result(const std::string& id) {
    protocol::CommandResult r;
    r.command_id = id;
    r.status = "succeeded";
    r.duration_ms = 3;
    return r;
  }

  static std::vector<protocol::Command> commandsIn(const std::vector<protocol::Envelope>& envs) {
    std::vector<protocol::Command> out;
    for (const auto& e : envs) {
      if (e.type() == protocol::MessageType::kCommand) out.push_back(std::get<protocol::Command>(e.body));
    }
    return out;
  }

  noa::controller::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  prometheus::Registry prom_;
  ControllerMetrics metrics_{prom_};
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<commands::CommandBook> book_;
  std::unique_ptr<IngestCore> core_;
  std::vector<protocol::Envelope> replies_;
  noa::testing::AgentFrames frames_{clock_};
};

TEST_F(IngestCommandsTest, CommandWaitsForTheSessionAndFollowsTheWelcome) {
  const auto c = create();
  EXPECT_TRUE(deliver().empty()) << "no session yet";
  hello();
  ASSERT_EQ(replies_.size(), 2u);
  EXPECT_EQ(replies_[0].type(), protocol::MessageType::kWelcome);
  auto sent = commandsIn(replies_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].command_id, c.id);
  EXPECT_EQ(book_->get(c.id)->state, commands::CommandState::kSent);
  EXPECT_TRUE(deliver().empty()) << "sent once, not every pass";
}

TEST_F(IngestCommandsTest, ResultIsStoredThenAcknowledgedWithItsId) {
  hello();
  const auto c = create();
  ASSERT_EQ(commandsIn(deliver()).size(), 1u);
  auto replies = send("pg-1", result(c.id));
  ASSERT_EQ(replies.size(), 1u);
  const auto& ack = std::get<protocol::Ack>(replies[0].body);
  EXPECT_EQ(ack.command_id, c.id);
  EXPECT_EQ(ack.error, "");
  EXPECT_EQ(book_->get(c.id)->state, commands::CommandState::kSucceeded);
  // A replay (the agent did not get the ack) is acknowledged again and changes nothing.
  const auto before = *book_->get(c.id);
  replies = send("pg-1", result(c.id));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "");
  EXPECT_EQ(*book_->get(c.id), before);
  EXPECT_EQ(metrics_.commandEventsForTest("result", "duplicate"), 1);
}

TEST_F(IngestCommandsTest, ResultsOfOneDrainShareOneSyncedCommitAndAreAckedAfterIt) {
  hello("pg-1");
  hello("pg-2");
  const auto a = create("pg-1");
  const auto b = create("pg-2");
  ASSERT_EQ(commandsIn(deliver()).size(), 2u);
  Store::Batch batch;
  std::vector<Reply> replies;
  core_->handle("pg-1", encodeFrom("pg-1", result(a.id)), 0, batch, replies);
  core_->handle("pg-2", encodeFrom("pg-2", result(b.id)), 0, batch, replies);
  EXPECT_TRUE(replies.empty()) << "no ack before the results are stored";
  EXPECT_NE(book_->get(a.id)->state, commands::CommandState::kSucceeded);
  const uint64_t commits = store_->stats().commits;
  core_->applyPendingResults(replies);
  EXPECT_EQ(store_->stats().commits, commits + 1);
  const auto acks = decodeAll(replies);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(std::get<protocol::Ack>(acks[0].body).command_id, a.id);
  EXPECT_EQ(std::get<protocol::Ack>(acks[1].body).command_id, b.id);
  EXPECT_EQ(std::get<protocol::Ack>(acks[1].body).error, "");
  EXPECT_EQ(book_->get(b.id)->state, commands::CommandState::kSucceeded);
  replies.clear();
  core_->applyPendingResults(replies);
  EXPECT_TRUE(replies.empty()) << "each result is answered once";
}

TEST_F(IngestCommandsTest, UnknownAndForeignResultsAreRejectedSoTheAgentDropsThem) {
  hello("pg-1");
  hello("pg-2");
  const auto c = create("pg-1");
  (void)deliver();
  auto replies = send("pg-2", result(c.id));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "rejected");
  EXPECT_NE(book_->get(c.id)->state, commands::CommandState::kSucceeded) << "not pg-2's command";
  replies = send("pg-1", result("cmd-0000000000000-000000"));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "rejected");
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).command_id, "cmd-0000000000000-000000");
}

TEST_F(IngestCommandsTest, ResultWithoutASessionIsStillRecorded) {
  hello();
  const auto c = create();
  (void)deliver();
  restart();  // the controller restarted; the agent has not said hello to this one yet
  auto replies = send("pg-1", result(c.id));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(std::get<protocol::Ack>(replies[0].body).error, "");
  EXPECT_EQ(book_->get(c.id)->state, commands::CommandState::kSucceeded);
}

TEST_F(IngestCommandsTest, RestartedControllerResendsUnfinishedCommandsAtTheNextHello) {
  hello();
  const auto c = create();
  ASSERT_EQ(commandsIn(deliver()).size(), 1u);
  protocol::Progress accepted;
  accepted.command_id = c.id;
  accepted.state = protocol::kProgressAccepted;
  EXPECT_TRUE(send("pg-1", accepted).empty()) << "progress is not acknowledged";
  EXPECT_EQ(book_->get(c.id)->state, commands::CommandState::kAcked);
  restart();
  EXPECT_TRUE(deliver().empty()) << "only within a session";
  hello();
  auto sent = commandsIn(replies_);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].command_id, c.id);
  EXPECT_EQ(book_->get(c.id)->attempts, 2u);
}

TEST_F(IngestCommandsTest, ExpiryTimesOutACommandThatNeverRan) {
  commands::NewCommand n;
  n.target = {"pg-1", "postgres", ""};
  n.action = "ping";
  n.deadline_ms = toUnixMillis(clock_.wallNow()) + 1000;
  auto c = book_->create(n);
  ASSERT_OK(c);
  clock_.advance(milliseconds(1500));
  core_->expireCommands(std::chrono::hours(1));
  EXPECT_EQ(book_->get(c->id)->state, commands::CommandState::kTimedOut);
}

}  // namespace
}  // namespace noa::controller
