// CommandBook over a real RocksDB store in a temporary directory, on a fake clock: delivery and
// resend timing, restart (reopen) resumes, replayed results are not applied twice, deadlines.

#include "controller/commands/command_book.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/protocol/command_params.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::commands {
namespace {

using namespace std::chrono_literals;

class CommandBookTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    book_.reset();
    store_.reset();
    auto store = Store::open({dir_.path()});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto book = CommandBook::open(*store_, clock_, options_);
    ASSERT_OK(book);
    book_ = std::move(book).value();
  }

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }

  CommandRecord create(const std::string& agent = "pg-1", const std::string& action = "ping",
                       nlohmann::json params = nlohmann::json::object(), int64_t deadline = 0) {
    NewCommand c;
    c.target = {agent, "postgres", ""};
    c.action = action;
    c.params = std::move(params);
    c.deadline_ms = deadline;
    c.created_by = "test";
    auto r = book_->create(c);
    EXPECT_OK(r);
    return r.ok() ? *r : CommandRecord{};
  }

  std::vector<protocol::Command> claim(const std::string& agent = "pg-1") {
    auto r = book_->claimDeliveries(agent);
    EXPECT_OK(r);
    return r.ok() ? *r : std::vector<protocol::Command>{};
  }

  protocol::Progress progress(const std::string& id, const char* state, uint64_t done = 0) {
    protocol::Progress p;
    p.command_id = id;
    p.state = state;
    p.phase = "dump";
    p.bytes_done = done;
    return p;
  }

  protocol::CommandResult result(const std::string& id, const std::string& status) {
    protocol::CommandResult r;
    r.command_id = id;
    r.status = status;
    r.output["bytes"] = int64_t{42};
    r.output_json = R"({"deleted":["a"]})";
    return r;
  }

  ApplyOutcome apply(const protocol::Progress& p, const std::string& agent = "pg-1") {
    auto r = book_->applyProgress(agent, p);
    EXPECT_OK(r);
    return r.ok() ? r->outcome : ApplyOutcome::kUnchanged;
  }
  ApplyOutcome apply(const protocol::CommandResult& res, const std::string& agent = "pg-1") {
    auto r = book_->applyResult(agent, res);
    EXPECT_OK(r);
    return r.ok() ? r->outcome : ApplyOutcome::kUnchanged;
  }

  CommandState state(const std::string& id) { return book_->get(id).value().state; }

  testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  CommandBookOptions options_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<CommandBook> book_;
};

TEST_F(CommandBookTest, IdsAreUniqueAndSortByCreation) {
  const auto a = create();
  const auto b = create();
  clock_.advance(1ms);
  const auto c = create();
  EXPECT_LT(a.id, b.id);
  EXPECT_LT(b.id, c.id);
  EXPECT_EQ(a.id.rfind("cmd-1790000000000-", 0), 0u) << a.id;
  EXPECT_EQ(a.state, CommandState::kPending);
}

TEST_F(CommandBookTest, CreateManyStoresAllInOneCommitOrNone) {
  std::vector<NewCommand> requests(3);
  for (size_t i = 0; i < requests.size(); ++i) {
    requests[i].target = {"pg-" + std::to_string(i), "postgres", ""};
    requests[i].action = "ping";
    requests[i].created_by = "test";
  }
  const uint64_t commits = store_->stats().commits;
  auto created = book_->createMany(requests);
  ASSERT_OK(created);
  ASSERT_EQ(created->size(), 3u);
  EXPECT_EQ(store_->stats().commits, commits + 1) << "one synced commit for the fan-out";
  EXPECT_NE((*created)[0].id, (*created)[1].id);
  EXPECT_EQ(book_->agentsWithDeliveries().size(), 3u);

  requests[1].action = "";  // one bad request refuses the whole batch
  EXPECT_FALSE(book_->createMany(requests).ok());
  EXPECT_FALSE(book_->createMany({}).ok());
  EXPECT_EQ(book_->size(), 3u);
  reopen();
  EXPECT_EQ(book_->size(), 3u) << "stored";
}

TEST_F(CommandBookTest, PendingIsSentOnceThenResentOnlyUntilAccepted) {
  const auto cmd = create();
  EXPECT_EQ(book_->agentsWithDeliveries(), std::vector<std::string>{"pg-1"});
  auto sent = claim();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].command_id, cmd.id);
  EXPECT_FALSE(sent[0].cancel);
  EXPECT_EQ(state(cmd.id), CommandState::kSent);
  EXPECT_TRUE(claim().empty()) << "not due again before the resend interval";
  clock_.advance(options_.resend_interval - 1ms);
  EXPECT_TRUE(claim().empty());
  clock_.advance(1ms);
  ASSERT_EQ(claim().size(), 1u) << "sent, never accepted: resent";
  EXPECT_EQ(book_->get(cmd.id)->attempts, 2u);

  EXPECT_EQ(apply(progress(cmd.id, protocol::kProgressAccepted)), ApplyOutcome::kApplied);
  EXPECT_EQ(state(cmd.id), CommandState::kAcked);
  clock_.advance(options_.resend_interval * 5);
  EXPECT_TRUE(claim().empty()) << "the agent has it: no resend";
  EXPECT_TRUE(book_->agentsWithDeliveries().empty());
  EXPECT_EQ(book_->stats().sent, 1u);
  EXPECT_EQ(book_->stats().resent, 1u);
}

TEST_F(CommandBookTest, AReconnectedAgentGetsEveryUnfinishedCommandAgain) {
  const auto acked = create();
  const auto running = create();
  const auto done = create();
  ASSERT_EQ(claim().size(), 3u);
  apply(progress(acked.id, protocol::kProgressAccepted));
  apply(progress(running.id, protocol::kProgressRunning, 10));
  apply(result(done.id, "succeeded"));
  EXPECT_TRUE(claim().empty());
  book_->agentConnected("pg-1");
  auto again = claim();
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].command_id, acked.id);
  EXPECT_EQ(again[1].command_id, running.id);
  EXPECT_EQ(state(running.id), CommandState::kRunning) << "a resend keeps the state";
  EXPECT_TRUE(claim().empty());
}

TEST_F(CommandBookTest, ParamsTravelAsTypedScalarsPlusJsonText) {
  const auto cmd = create("pg-1", "retention.prune",
                          {{"backup_dir", "/b"}, {"dry_run", true}, {"artifacts", {"x", "y"}}},
                          nowMs() + 60'000);
  auto sent = claim();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].action, "retention.prune");
  EXPECT_EQ(sent[0].deadline_ms, cmd.deadline_ms);
  EXPECT_EQ(std::get<std::string>(sent[0].params.at("backup_dir")), "/b");
  auto params = protocol::commandParams(sent[0]);
  ASSERT_OK(params);
  EXPECT_EQ(*params, cmd.params);
}

TEST_F(CommandBookTest, CreateRefusesWhatCouldNeverBeSent) {
  NewCommand c;
  c.target = {"pg-1", "postgres", ""};
  c.action = "ping";
  c.deadline_ms = nowMs();
  EXPECT_EQ(book_->create(c).status().code(), StatusCode::kInvalidArgument);
  c.deadline_ms = 0;
  c.params = {{"big", std::vector<std::string>(2000, "0123456789")}};
  EXPECT_EQ(book_->create(c).status().code(), StatusCode::kInvalidArgument);
  c.params = nlohmann::json::array();
  EXPECT_EQ(book_->create(c).status().code(), StatusCode::kInvalidArgument);
  c.params = nlohmann::json::object();
  c.action = "";
  EXPECT_EQ(book_->create(c).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(book_->size(), 0u);
}

TEST_F(CommandBookTest, ARestartedControllerResumesPendingAndUnackedCommands) {
  const auto sent = create();
  ASSERT_EQ(claim().size(), 1u);
  const auto pending = create();
  const auto other_agent = create("pg-2");
  const auto before = book_->get(sent.id).value();

  reopen();
  EXPECT_EQ(book_->size(), 3u);
  EXPECT_EQ(book_->get(sent.id).value(), before) << "every transition was stored";
  auto resumed = claim();
  ASSERT_EQ(resumed.size(), 2u) << "no resend interval after a restart: send everything again";
  EXPECT_EQ(resumed[0].command_id, sent.id);
  EXPECT_EQ(resumed[1].command_id, pending.id);
  EXPECT_EQ(book_->get(sent.id)->attempts, 2u);
  ASSERT_EQ(claim("pg-2").size(), 1u);
  EXPECT_EQ(state(other_agent.id), CommandState::kSent);
}

TEST_F(CommandBookTest, AReplayedResultIsNeverAppliedTwiceEvenAcrossARestart) {
  const auto cmd = create();
  claim();
  ASSERT_EQ(apply(result(cmd.id, "succeeded")), ApplyOutcome::kApplied);
  const auto finished = book_->get(cmd.id).value();
  EXPECT_EQ(finished.state, CommandState::kSucceeded);
  EXPECT_EQ(finished.result->output["bytes"], 42);
  EXPECT_EQ(finished.result->output["deleted"], nlohmann::json::array({"a"}));

  EXPECT_EQ(apply(result(cmd.id, "succeeded")), ApplyOutcome::kDuplicate);
  reopen();
  EXPECT_EQ(apply(result(cmd.id, "failed")), ApplyOutcome::kDuplicate);
  EXPECT_EQ(apply(progress(cmd.id, protocol::kProgressRunning)), ApplyOutcome::kDuplicate);
  EXPECT_EQ(book_->get(cmd.id).value(), finished);
  EXPECT_EQ(book_->stats().duplicates, 2u);
  EXPECT_TRUE(claim().empty()) << "a finished command is never resent";
}

TEST_F(CommandBookTest, ResultsOfOneDrainAreStoredInOneSyncedCommitInOrder) {
  const auto a = create("pg-1");
  const auto b = create("pg-2");
  claim("pg-1");
  claim("pg-2");
  const uint64_t commits = store_->stats().commits;
  auto applied = book_->applyResults({{"pg-1", result(a.id, "succeeded")},
                                      {"pg-2", result(b.id, "failed")},
                                      {"pg-1", result(a.id, "failed")},  // replayed in the drain
                                      {"pg-1", result("cmd-nope", "succeeded")},
                                      {"pg-1", result(b.id, "succeeded")}});  // not pg-1's
  ASSERT_OK(applied);
  ASSERT_EQ(applied->size(), 5u);
  EXPECT_EQ(store_->stats().commits, commits + 1) << "one synced commit for the drain";
  EXPECT_EQ((*applied)[0].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*applied)[1].outcome, ApplyOutcome::kApplied);
  EXPECT_EQ((*applied)[2].outcome, ApplyOutcome::kDuplicate) << "the first result wins";
  EXPECT_EQ((*applied)[3].outcome, ApplyOutcome::kUnknownCommand);
  EXPECT_EQ((*applied)[4].outcome, ApplyOutcome::kWrongAgent);
  reopen();
  EXPECT_EQ(state(a.id), CommandState::kSucceeded) << "stored";
  EXPECT_EQ(state(b.id), CommandState::kFailed);
  EXPECT_OK(book_->applyResults({}));
}

TEST_F(CommandBookTest, ProgressIsStoredAndMovesTheCommandToRunning) {
  const auto cmd = create();
  claim();
  EXPECT_EQ(apply(progress(cmd.id, protocol::kProgressRunning, 100)), ApplyOutcome::kApplied);
  EXPECT_EQ(state(cmd.id), CommandState::kRunning) << "the acceptance was lost: still running";
  EXPECT_EQ(apply(progress(cmd.id, protocol::kProgressAccepted)), ApplyOutcome::kUnchanged);
  EXPECT_EQ(apply(progress(cmd.id, protocol::kProgressRunning, 200)), ApplyOutcome::kApplied);
  reopen();
  EXPECT_EQ(book_->get(cmd.id)->progress->bytes_done, 200u);
}

TEST_F(CommandBookTest, UnknownCommandsAndOtherAgentsAreReported) {
  const auto cmd = create();
  claim();
  auto unknown = book_->applyResult("pg-1", result("cmd-nope", "succeeded"));
  ASSERT_OK(unknown);
  EXPECT_EQ(unknown->outcome, ApplyOutcome::kUnknownCommand);
  auto wrong = book_->applyResult("pg-2", result(cmd.id, "succeeded"));
  ASSERT_OK(wrong);
  EXPECT_EQ(wrong->outcome, ApplyOutcome::kWrongAgent);
  EXPECT_EQ(state(cmd.id), CommandState::kSent);
  EXPECT_EQ(book_->stats().unknown, 1u);
  EXPECT_EQ(book_->stats().wrong_agent, 1u);
}

TEST_F(CommandBookTest, DeadlinesTimeCommandsOutWithGraceForTheAgentsOwnResult) {
  const auto pending = create("pg-2", "ping", nlohmann::json::object(), nowMs() + 5'000);
  const auto sent = create("pg-1", "ping", nlohmann::json::object(), nowMs() + 5'000);
  claim("pg-1");
  clock_.advance(5s);
  EXPECT_TRUE(claim("pg-2").empty()) << "never sent past its deadline";
  auto expired = book_->expire();
  ASSERT_OK(expired);
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].id, pending.id);
  EXPECT_EQ(state(pending.id), CommandState::kTimedOut);
  EXPECT_EQ(state(sent.id), CommandState::kSent) << "the agent's own timeout result comes first";
  clock_.advance(options_.expiry_grace);
  ASSERT_EQ(book_->expire()->size(), 1u);
  EXPECT_EQ(state(sent.id), CommandState::kTimedOut);
  EXPECT_EQ(apply(result(sent.id, "succeeded")), ApplyOutcome::kDuplicate)
      << "a late result does not reopen a timed-out command";
}

TEST_F(CommandBookTest, CancelEndsPendingAtOnceAndAsksTheAgentOtherwise) {
  const auto pending = create();
  auto cancelled = book_->cancel(pending.id, "alice");
  ASSERT_OK(cancelled);
  EXPECT_EQ(cancelled->state, CommandState::kCancelled);
  EXPECT_TRUE(claim().empty());

  const auto running = create();
  claim();
  apply(progress(running.id, protocol::kProgressRunning));
  ASSERT_OK(book_->cancel(running.id, "bob"));
  EXPECT_TRUE(book_->get(running.id)->cancel_requested);
  auto sent = claim();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].cancel);
  EXPECT_EQ(sent[0].command_id, running.id);
  EXPECT_TRUE(claim().empty());
  clock_.advance(options_.resend_interval);
  ASSERT_EQ(claim().size(), 1u) << "no result yet: the cancel goes again";
  ASSERT_EQ(apply(result(running.id, "cancelled")), ApplyOutcome::kApplied);
  EXPECT_EQ(state(running.id), CommandState::kCancelled);
  EXPECT_TRUE(claim().empty());

  EXPECT_EQ(book_->cancel(running.id, "bob").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(book_->cancel("cmd-nope", "bob").status().code(), StatusCode::kNotFound);
}

TEST_F(CommandBookTest, ListFiltersNewestFirstAndPruneForgetsOldFinishedCommands) {
  const auto a = create("pg-1");
  const auto b = create("pg-2");
  const auto c = create("pg-1");
  claim("pg-1");
  apply(result(a.id, "succeeded"));
  auto all = book_->list({});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, c.id);
  CommandFilter f;
  f.agent_id = "pg-1";
  EXPECT_EQ(book_->list(f).size(), 2u);
  f.state = CommandState::kSucceeded;
  ASSERT_EQ(book_->list(f).size(), 1u);
  f = {};
  f.limit = 1;
  EXPECT_EQ(book_->list(f).size(), 1u);

  clock_.advance(1h);
  auto pruned = book_->pruneFinished(nowMs() - 30 * 60 * 1000);
  ASSERT_OK(pruned);
  EXPECT_EQ(*pruned, 1u);
  reopen();
  EXPECT_FALSE(book_->get(a.id).has_value());
  EXPECT_TRUE(book_->get(b.id).has_value());
}

TEST_F(CommandBookTest, WakeupIsCalledAfterCreateAndCancel) {
  int wakes = 0;
  book_->setWakeup([&wakes] { ++wakes; });
  const auto cmd = create();
  ASSERT_OK(book_->cancel(cmd.id, "x"));
  EXPECT_EQ(wakes, 2);
}

using SteadyClock = std::chrono::steady_clock;

TEST_F(CommandBookTest, WaitReturnsAsSoonAsTheResultIsCommittedFromAnotherThread) {
  const auto cmd = create();
  claim();
  // The delay only makes sure the waiter is asleep when the result lands; the assertions hold
  // either way.
  std::thread agent([&] {
    std::this_thread::sleep_for(50ms);
    apply(progress(cmd.id, protocol::kProgressRunning, 10));
    apply(result(cmd.id, "succeeded"));
  });
  const auto start = SteadyClock::now();
  std::optional<CommandRecord> done = book_->waitUntilFinished(cmd.id, 30s);
  const auto waited = SteadyClock::now() - start;
  agent.join();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, CommandState::kSucceeded) << "progress alone does not end the wait";
  ASSERT_TRUE(done->result.has_value());
  EXPECT_EQ(done->result->output["bytes"], 42);
  EXPECT_LT(waited, 5s) << "woken by the commit, not by the timeout";
}

TEST_F(CommandBookTest, WaitEndsWithTheCurrentRecordWhenTheTimeoutPasses) {
  const auto cmd = create();
  const auto start = SteadyClock::now();
  std::optional<CommandRecord> still = book_->waitUntilFinished(cmd.id, 30ms);
  EXPECT_GE(SteadyClock::now() - start, 30ms);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->state, CommandState::kPending);
}

TEST_F(CommandBookTest, WaitAnswersAtOnceForFinishedAndUnknownCommands) {
  const auto cmd = create();
  ASSERT_OK(book_->cancel(cmd.id, "x"));
  const auto start = SteadyClock::now();
  std::optional<CommandRecord> done = book_->waitUntilFinished(cmd.id, 30s);
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->state, CommandState::kCancelled);
  EXPECT_FALSE(book_->waitUntilFinished("cmd-nope", 30s).has_value());
  EXPECT_LT(SteadyClock::now() - start, 5s);
}

TEST_F(CommandBookTest, AnAbandonedWaitReturnsWhenWoken) {
  const auto cmd = create();
  std::atomic<bool> stopping{false};
  std::optional<CommandRecord> seen;
  std::thread waiter([&] { seen = book_->waitUntilFinished(cmd.id, 30s, &stopping); });
  std::this_thread::sleep_for(20ms);
  const auto start = SteadyClock::now();
  stopping = true;
  book_->wakeWaiters();
  waiter.join();
  EXPECT_LT(SteadyClock::now() - start, 5s);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->state, CommandState::kPending);
  // A flag already set: no wait at all.
  EXPECT_EQ(book_->waitUntilFinished(cmd.id, 30s, &stopping)->state, CommandState::kPending);
}

}  // namespace
}  // namespace noa::controller::commands
