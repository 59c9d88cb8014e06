// CommandExecutor with real actions (ping, retention.prune in a temporary directory) and
// test-only ones (a slow, cancellable action; a counting one): dedupe by id, lanes, cancel,
// the on-disk spool across executor restarts, acks. Waits on the executor's wakeup, never sleeps.

#include "agent/commands/command_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>

#include "common/protocol/command_params.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::commands {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using protocol::CommandResult;
using protocol::Progress;

// Test-only actions, registered beside the built-in ones.
struct TestActions {
  std::atomic<int> counted{0};
  std::atomic<int> slow_started{0};
  std::atomic<int> slow_ran{0};
  std::promise<void> slow_running;
  bool slow_running_set = false;

  void addTo(ActionRegistry& registry) {
    registry.add("test.count", [this](const json&) -> Result<PreparedAction> {
      return PreparedAction{"", [this](const actions::ActionContext&) {
                              counted++;
                              actions::ActionResult r;
                              r.ok = true;
                              return r;
                            }};
    });
    // Runs until cancelled (or 30 s), reporting progress in one phase; {"lane": "..."}.
    registry.add("test.slow", [this](const json& params) -> Result<PreparedAction> {
      if (!params.contains("lane")) return Status::InvalidArgument("test.slow: lane required");
      return PreparedAction{params["lane"].get<std::string>(),
                            [this](const actions::ActionContext& ctx) {
                              slow_ran++;
                              if (slow_started++ == 0) slow_running.set_value();
                              actions::ActionResult r;
                              for (int i = 0; i < 3000; ++i) {
                                ctx.on_progress({"copy", static_cast<uint64_t>(i), 3000});
                                if (!ctx.cancel->waitFor(10ms)) {
                                  r.error_code = actions::kErrCancelled;
                                  r.error = "cancelled";
                                  return r;
                                }
                              }
                              r.ok = true;
                              return r;
                            }};
    });
  }
};

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void TearDown() override { executor_.reset(); }

  void open() {
    executor_.reset();
    ActionRegistry registry = builtinActions({dir_.file("locks")});
    test_actions_.addTo(registry);
    ExecutorOptions options;
    options.state_dir = dir_.file("state");
    auto ex = CommandExecutor::open(options, std::move(registry), clock_);
    ASSERT_OK(ex);
    executor_ = std::move(ex).value();
    executor_->setWakeup([this] {
      std::lock_guard lock(mu_);
      cv_.notify_all();
    });
  }

  protocol::Command command(const std::string& id, const std::string& action,
                            json params = json::object()) {
    protocol::Command c;
    c.command_id = id;
    c.action = action;
    EXPECT_OK(protocol::setCommandParams(params, c));
    return c;
  }

  protocol::Command cancelOf(const std::string& id) {
    protocol::Command c = command(id, "test.slow");
    c.cancel = true;
    return c;
  }

  // Drains events into events_ until `pred` holds (10 s at most).
  bool waitUntil(const std::function<bool()>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      for (auto& e : executor_->drainEvents()) events_.push_back(std::move(e));
      if (pred()) return true;
      std::unique_lock lock(mu_);
      if (std::chrono::steady_clock::now() > deadline) return false;
      cv_.wait_for(lock, 50ms);
    }
  }

  const CommandResult* resultFor(const std::string& id) const {
    const CommandResult* found = nullptr;
    for (const auto& e : events_) {
      if (auto* r = std::get_if<CommandResult>(&e); r && r->command_id == id) found = r;
    }
    return found;
  }
  int resultsFor(const std::string& id) const {
    int n = 0;
    for (const auto& e : events_) {
      if (auto* r = std::get_if<CommandResult>(&e); r && r->command_id == id) ++n;
    }
    return n;
  }
  std::vector<Progress> progressFor(const std::string& id) const {
    std::vector<Progress> out;
    for (const auto& e : events_) {
      if (auto* p = std::get_if<Progress>(&e); p && p->command_id == id) out.push_back(*p);
    }
    return out;
  }
  CommandResult waitResult(const std::string& id) {
    EXPECT_TRUE(waitUntil([&] { return resultFor(id) != nullptr; })) << "no result for " << id;
    return resultFor(id) ? *resultFor(id) : CommandResult{};
  }
  bool spooled(const std::string& id) const {
    return std::filesystem::exists(dir_.file("state/commands/spool/" + id + ".json"));
  }
  void ack(const std::string& id, const std::string& error = "") {
    protocol::Ack a;
    a.command_id = id;
    a.error = error;
    executor_->onAck(a);
  }

  noa::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  TestActions test_actions_;
  std::unique_ptr<CommandExecutor> executor_;
  std::vector<OutgoingEvent> events_;
  std::mutex mu_;
  std::condition_variable cv_;
};

TEST_F(ExecutorTest, PingIsAcceptedRunAndAnsweredAndTheAckEmptiesTheSpool) {
  executor_->submit(command("c1", "ping"));
  const CommandResult r = waitResult("c1");
  EXPECT_EQ(r.status, "succeeded");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(json::parse(r.output_json), json({{"pong", true}}));
  auto progress = progressFor("c1");
  ASSERT_GE(progress.size(), 2u);
  EXPECT_EQ(progress[0].state, protocol::kProgressAccepted);
  EXPECT_EQ(progress[1].state, protocol::kProgressRunning);
  EXPECT_TRUE(spooled("c1")) << "the result is on disk until the controller has it";
  ack("c1", "store_unavailable");
  EXPECT_TRUE(spooled("c1")) << "not stored by the controller: kept";
  ack("c1");
  EXPECT_FALSE(spooled("c1"));
  EXPECT_EQ(executor_->capabilities().front(), "backup.pg_dump");
}

TEST_F(ExecutorTest, UnknownActionsAndBadParamsAreRejectedAndNothingRuns) {
  executor_->submit(command("c1", "shell", {{"cmd", "rm -rf /"}}));
  executor_->submit(command("c2", "ping", {{"unexpected", 1}}));
  executor_->submit(command("c3", "retention.prune", {{"backupdir", "/x"}}));
  executor_->submit(command("../evil", "ping"));
  for (const char* id : {"c1", "c2", "c3"}) {
    const CommandResult r = waitResult(id);
    EXPECT_EQ(r.status, "rejected") << id;
    EXPECT_FALSE(r.error.empty()) << id;
  }
  EXPECT_EQ(resultFor("c1")->error_code, kErrUnknownAction);
  EXPECT_NE(resultFor("c1")->error.find("ping"), std::string::npos) << "names what it can run";
  EXPECT_EQ(resultFor("c2")->error_code, actions::kErrInvalidParams);
  EXPECT_NE(resultFor("c3")->error.find("backupdir"), std::string::npos) << resultFor("c3")->error;
  EXPECT_EQ(waitResult("../evil").error_code, kErrInvalidCommandId);
  EXPECT_TRUE(progressFor("c1").empty());
  EXPECT_EQ(executor_->stats().started, 0u);
  EXPECT_EQ(executor_->stats().rejected, 4u);
}

TEST_F(ExecutorTest, RetentionPruneRunsForRealWithListParams) {
  noa::testing::TempDir backups;
  backups.write("a.dump", "aaaa");
  backups.write("a.dump.json", "{}");
  backups.write("b.dump", "bbbb");
  executor_->submit(command("p1", "retention.prune",
                            {{"backup_dir", backups.path()},
                             {"artifacts", {"a.dump", "b.dump"}},
                             {"pinned", {"b.dump"}},
                             {"lock_target", "pg.app"}}));
  const CommandResult r = waitResult("p1");
  ASSERT_EQ(r.status, "succeeded") << r.error;
  EXPECT_FALSE(backups.exists("a.dump"));
  EXPECT_FALSE(backups.exists("a.dump.json"));
  EXPECT_TRUE(backups.exists("b.dump"));
  const json details = json::parse(r.output_json);
  EXPECT_EQ(details["deleted"][0]["name"], "a.dump");
  EXPECT_EQ(details["kept"][0]["reason"], "pinned");
  EXPECT_TRUE(std::filesystem::exists(dir_.file("locks/pg.app.lock"))) << "the shared lock";
}

TEST_F(ExecutorTest, ARepeatedIdIsNeverRunTwice) {
  executor_->submit(command("c1", "test.count"));
  waitResult("c1");
  executor_->submit(command("c1", "test.count"));
  ASSERT_TRUE(waitUntil([&] { return resultsFor("c1") == 2; }));
  EXPECT_EQ(test_actions_.counted, 1);
  EXPECT_EQ(executor_->stats().duplicates, 1u);

  // Still running: ignored (its state is announced again), not started again.
  executor_->submit(command("s1", "test.slow", {{"lane", "L"}}));
  test_actions_.slow_running.get_future().wait();
  executor_->submit(command("s1", "test.slow", {{"lane", "L"}}));
  ASSERT_TRUE(waitUntil([&] {
    auto p = progressFor("s1");
    return !p.empty() && p.back().state == protocol::kProgressRunning;
  }));
  executor_->submit(cancelOf("s1"));
  EXPECT_EQ(waitResult("s1").status, "cancelled");
  EXPECT_EQ(test_actions_.slow_ran, 1);
}

TEST_F(ExecutorTest, CancelStopsARunningActionAndDropsAQueuedOne) {
  executor_->submit(command("s1", "test.slow", {{"lane", "pg.app"}}));
  executor_->submit(command("s2", "test.slow", {{"lane", "pg.app"}}));  // same lane: waits
  executor_->submit(command("p1", "ping"));                             // no lane: runs now
  EXPECT_EQ(waitResult("p1").status, "succeeded") << "other lanes are not blocked";
  test_actions_.slow_running.get_future().wait();
  executor_->submit(cancelOf("s2"));
  const CommandResult queued = waitResult("s2");
  EXPECT_EQ(queued.status, "cancelled");
  EXPECT_EQ(queued.error_code, actions::kErrCancelled);
  executor_->submit(cancelOf("s1"));
  EXPECT_EQ(waitResult("s1").status, "cancelled");
  EXPECT_TRUE(executor_->waitIdle(10s));
  EXPECT_EQ(test_actions_.slow_ran, 1) << "the queued one never started";

  // A cancel that overtakes its command: the command, when it arrives, is not run.
  executor_->submit(cancelOf("s3"));
  EXPECT_EQ(waitResult("s3").status, "cancelled");
  executor_->submit(command("s3", "test.slow", {{"lane", "x"}}));
  ASSERT_TRUE(waitUntil([&] { return resultsFor("s3") == 2; }));
  EXPECT_EQ(test_actions_.slow_ran, 1);
}

TEST_F(ExecutorTest, ProgressIsThrottledPerPhase) {
  executor_->submit(command("s1", "test.slow", {{"lane", "L"}}));
  test_actions_.slow_running.get_future().wait();
  // The fake clock does not move: after the first "copy" progress, the rest are held back.
  ASSERT_TRUE(waitUntil([&] {
    for (const auto& p : progressFor("s1")) {
      if (p.phase == "copy") return true;
    }
    return false;
  }));
  clock_.advance(1s);
  ASSERT_TRUE(waitUntil([&] {
    int copies = 0;
    for (const auto& p : progressFor("s1")) copies += p.phase == "copy" ? 1 : 0;
    return copies >= 2;
  }));
  executor_->submit(cancelOf("s1"));
  waitResult("s1");
  int copies = 0;
  for (const auto& p : progressFor("s1")) copies += p.phase == "copy" ? 1 : 0;
  EXPECT_LE(copies, 3) << "hundreds of calls, a few events";
}

TEST_F(ExecutorTest, APassedDeadlineIsTimedOutWithoutRunning) {
  protocol::Command c = command("c1", "test.count");
  c.deadline_ms = toUnixMillis(clock_.wallNow()) - 1;
  executor_->submit(c);
  const CommandResult r = waitResult("c1");
  EXPECT_EQ(r.status, "timed_out");
  EXPECT_EQ(r.error_code, actions::kErrTimeout);
  EXPECT_EQ(test_actions_.counted, 0);
}

TEST_F(ExecutorTest, TheSpoolSurvivesARestartAndIsOfferedAgainUntilAcknowledged) {
  executor_->submit(command("c1", "test.count"));
  executor_->submit(command("c2", "test.count"));
  waitResult("c1");
  waitResult("c2");
  ack("c2");
  events_.clear();

  open();  // a new agent process
  ASSERT_TRUE(waitUntil([&] { return resultFor("c1") != nullptr; }));
  EXPECT_EQ(resultFor("c1")->status, "succeeded");
  EXPECT_EQ(resultFor("c2"), nullptr) << "acknowledged results are not offered again";
  executor_->reofferSpool();
  ASSERT_TRUE(waitUntil([&] { return resultsFor("c1") == 2; })) << "offered again after welcome";

  // The journal outlives the process too: a resent command is answered, not run.
  executor_->submit(command("c2", "test.count"));
  ASSERT_TRUE(waitUntil([&] { return resultFor("c2") != nullptr; }));
  EXPECT_EQ(test_actions_.counted, 2);

  ack("c1");
  events_.clear();
  open();
  EXPECT_TRUE(executor_->drainEvents().empty());
}

TEST_F(ExecutorTest, ACommandInterruptedByAnAgentStopEndsAsFailedAtTheNextStart) {
  executor_.reset();
  {
    auto journal = CommandJournal::open(dir_.file("state/commands"));
    ASSERT_OK(journal);
    ASSERT_OK((*journal)->recordAccepted("c9", "backup.pg_dump", 1));
  }
  open();
  const CommandResult r = waitResult("c9");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.error_code, kErrAgentRestarted);
  EXPECT_TRUE(spooled("c9"));
}

// A real snapshot.create of a small tree, then the journal rewound to what a kill -9 at some
// point after the claim leaves behind: accepted, artifact claimed, no result, nothing spooled.
class InterruptedSnapshotTest : public ExecutorTest {
 protected:
  std::string artifact() const { return dir_.file("snaps/data.tar.zst"); }

  CommandResult runSnapshot(const std::string& id) {
    std::filesystem::create_directories(dir_.file("data/sub"));
    std::filesystem::create_directories(dir_.file("snaps"));
    dir_.write("data/sub/table", std::string(64 * 1024, 'x'));
    executor_->submit(command(id, "snapshot.create",
                              {{"source_dir", dir_.file("data")},
                               {"snapshot_dir", dir_.file("snaps")},
                               {"name", "data.tar.zst"},
                               {"lock_dir", dir_.file("locks")}}));
    return waitResult(id);
  }

  void rewindToKilledWhileRunning(const std::string& id) {
    executor_.reset();
    std::filesystem::remove(dir_.file("state/commands/spool/" + id + ".json"));
    auto journal = CommandJournal::open(dir_.file("state/commands"));
    ASSERT_OK(journal);
    ASSERT_OK((*journal)->recordAccepted(id, "snapshot.create", 1));
    ASSERT_OK((*journal)->recordArtifact(id, artifact()));
    events_.clear();
  }
};

TEST_F(InterruptedSnapshotTest, TheArtifactPathIsJournaledAndTheManifestNamesTheCommand) {
  const CommandResult done = runSnapshot("snap1");
  ASSERT_EQ(done.status, "succeeded") << done.error;
  executor_.reset();
  auto journal = CommandJournal::open(dir_.file("state/commands"));
  ASSERT_OK(journal);
  ASSERT_NE((*journal)->find("snap1"), nullptr);
  EXPECT_EQ((*journal)->find("snap1")->artifact_path, artifact());
  std::ifstream in(artifact() + ".json");
  EXPECT_EQ(json::parse(in).value("command_id", ""), "snap1");
}

TEST_F(InterruptedSnapshotTest, KilledAfterTheManifestTheRestartAdoptsTheArtifactAsItsResult) {
  const CommandResult done = runSnapshot("snap1");
  ASSERT_EQ(done.status, "succeeded") << done.error;
  rewindToKilledWhileRunning("snap1");

  open();
  const CommandResult r = waitResult("snap1");
  EXPECT_EQ(r.status, "succeeded") << r.error;
  EXPECT_EQ(std::get<std::string>(r.output.at("artifact_path")), artifact());
  EXPECT_EQ(r.output.at("sha256"), done.output.at("sha256"));
  EXPECT_EQ(r.output.at("bytes"), done.output.at("bytes"));
  EXPECT_TRUE(json::parse(r.output_json).value("adopted_after_restart", false));
  EXPECT_TRUE(std::filesystem::exists(artifact()));
  EXPECT_TRUE(spooled("snap1"));
}

TEST_F(InterruptedSnapshotTest, KilledBeforeTheManifestTheRestartRemovesTheUncataloguedArtifact) {
  ASSERT_EQ(runSnapshot("snap1").status, "succeeded");
  rewindToKilledWhileRunning("snap1");
  std::filesystem::remove(artifact() + ".json");

  open();
  const CommandResult r = waitResult("snap1");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.error_code, kErrAgentRestarted);
  EXPECT_NE(r.error.find("removed the incomplete"), std::string::npos) << r.error;
  EXPECT_FALSE(std::filesystem::exists(artifact()));
}

TEST_F(InterruptedSnapshotTest, AnArtifactOfAnotherCommandIsLeftAlone) {
  ASSERT_EQ(runSnapshot("snap1").status, "succeeded");
  // snap2 claimed the same name, was killed, and what is there is snap1's (never possible
  // through the partial's O_EXCL, but a restart must not trust that with someone's backup).
  rewindToKilledWhileRunning("snap2");

  open();
  const CommandResult r = waitResult("snap2");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.error_code, kErrAgentRestarted);
  EXPECT_TRUE(std::filesystem::exists(artifact()));
  EXPECT_TRUE(std::filesystem::exists(artifact() + ".json"));
}

TEST_F(InterruptedSnapshotTest, KilledBeforeAnyByteNothingIsLeftAndTheCommandFails) {
  rewindToKilledWhileRunning("snap1");
  open();
  const CommandResult r = waitResult("snap1");
  EXPECT_EQ(r.status, "failed");
  EXPECT_EQ(r.error_code, kErrAgentRestarted);
  EXPECT_NE(r.error.find("no artifact was written"), std::string::npos) << r.error;
}

TEST_F(ExecutorTest, StopCancelsWhatRunsAndSpoolsItsResult) {
  executor_->submit(command("s1", "test.slow", {{"lane", "L"}}));
  test_actions_.slow_running.get_future().wait();
  executor_->stop();
  EXPECT_TRUE(spooled("s1"));
  events_.clear();
  open();
  EXPECT_EQ(waitResult("s1").status, "cancelled");
}

TEST(CommandJournal, ResultsRoundTripThroughJson) {
  CommandResult r;
  r.command_id = "c1";
  r.status = "failed";
  r.code = 1;
  r.error = "boom";
  r.error_code = "busy";
  r.output = {{"bytes", int64_t{5}},
              {"sha", std::string("ab")},
              {"ratio", 0.5},
              {"ok", true},
              {"none", std::monostate{}}};
  r.output_json = R"({"x":[1]})";
  r.duration_ms = 9;
  auto back = resultFromJsonText(resultToJsonText(r));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(resultFromJsonText("{").ok());
}

}  // namespace
}  // namespace noa::agent::commands
