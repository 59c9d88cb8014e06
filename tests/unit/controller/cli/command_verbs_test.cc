// noactl run / commands / command / cancel, in-process against a real ApiServer whose fake
// StateView holds a real CommandBook. The agent's side is a thread that answers what the book
// delivers (fake_agent.h).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "controller/api/api_server.h"
#include "controller/cli/command_tables.h"
#include "controller/cli/commands.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_agent_side.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/cli/fake_agent.h"

namespace noa::cli {
namespace {

using namespace std::chrono_literals;
using controller::Liveness;
using controller::commands::CommandBook;
using nlohmann::json;
using noa::testing::kT0;
using noa::testing::makeAgent;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

using noa::testing::FakeAgent;

class CommandVerbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary");
    pg.hello.capabilities = {"ping", "backup.pg_dump"};
    state_.setAgents({pg, makeAgent("redis-1", "redis", "redis", Liveness::kAlive)});
    controller::ApiOptions options;
    options.port = 0;
    options.rate_limit = std::nullopt;  // the fake clock never refills a bucket
    server_ = std::make_unique<controller::ApiServer>(state_, registry_, options, clock_);
    ASSERT_OK(server_->start());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"noactl", "--controller", url_});
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    CliRun r;
    r.code = runCli(static_cast<int>(argv.size()), argv.data(), out, err, clock_);
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  controller::commands::CommandRecord only() {
    auto all = book_.list({});
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? controller::commands::CommandRecord{} : all.front();
  }

  prometheus::Registry registry_;
  noa::testing::FakeClock clock_;
  noa::testing::FakeStateView state_{registry_};
  CommandBook& book_ = state_.enableCommands(clock_);
  std::unique_ptr<controller::ApiServer> server_;
  std::string url_;
};

TEST_F(CommandVerbsTest, RunWithoutWaitPrintsTheNewCommand) {
  CliRun r = run({"run", "ping", "--agent", "pg-1"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto cmd = only();
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << r.out;
  EXPECT_TRUE(contains(r.out, "STATE")) << r.out;
  EXPECT_TRUE(contains(r.out, cmd.id + "  pg-1   ping    pending")) << r.out;
  EXPECT_EQ(cmd.agent_id, "pg-1");
  EXPECT_EQ(cmd.created_by, "anonymous");
  EXPECT_EQ(cmd.deadline_ms, kT0 + 3'600'000) << "the controller's default hour";
  EXPECT_EQ(cmd.params, json::object());
}

TEST_F(CommandVerbsTest, RunJsonByServiceAndRoleWithTheCommandsOwnTimeout) {
  // --timeout after the command is the command's; before it, the HTTP client's.
  CliRun r = run({"--timeout", "3s", "-o", "json", "run", "backup.pg_dump", "--service", "postgres",
                  "--role", "primary", "--timeout", "30m"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const json printed = json::parse(r.out);
  EXPECT_EQ(printed["agent_id"], "pg-1");
  EXPECT_EQ(printed["role"], "primary");
  EXPECT_EQ(printed["deadline_ms"], kT0 + 30 * 60'000);
  EXPECT_EQ(printed["state"], "pending");
}

TEST_F(CommandVerbsTest, RunAllCreatesOneCommandPerLiveAgentAndPrintsTheIds) {
  CliRun r = run({"run", "ping", "--service", "postgres", "--all"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto cmd = only();  // the fake fleet's postgres service has one live agent
  EXPECT_TRUE(contains(r.out, "1 commands created")) << r.out;
  EXPECT_TRUE(contains(r.out, cmd.id + "  pg-1")) << r.out;
}

TEST_F(CommandVerbsTest, ParamsAreTypedScalarsMergedWithParamsJson) {
  CliRun r = run({"run",           "ping",
                  "--agent",       "pg-1",
                  "--param",       "count=3",
                  "--param",       "ratio=0.5",
                  "--param",       "dry=true",
                  "--param",       "name=main",
                  "--param",       "code=007",
                  "--param",       "tag=\"42\"",
                  "--param",       "empty=",
                  "--param",       "nul=null",
                  "--param",       "expr=a=b",
                  "--param",       "neg=-2",
                  "--params-json", R"({"tables": ["a", "b"]})"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(only().params, json({{"count", 3},
                                 {"ratio", 0.5},
                                 {"dry", true},
                                 {"name", "main"},
                                 {"code", "007"},
                                 {"tag", "42"},
                                 {"empty", ""},
                                 {"nul", "null"},
                                 {"expr", "a=b"},
                                 {"neg", -2},
                                 {"tables", {"a", "b"}}}));
}

TEST_F(CommandVerbsTest, BadRunArgumentsAreUsageErrorsAndCreateNothing) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run"},
           {"run", "ping"},
           {"run", "ping", "--agent", "pg-1", "--service", "postgres"},
           {"run", "ping", "--agent", "pg-1", "--param", "novalue"},
           {"run", "ping", "--agent", "pg-1", "--param", "=v"},
           {"run", "ping", "--agent", "pg-1", "--param", "a=1", "--param", "a=2"},
           {"run", "ping", "--agent", "pg-1", "--param", "a=1", "--params-json", R"({"a": 2})"},
           {"run", "ping", "--agent", "pg-1", "--params-json", "[1]"},
           {"run", "ping", "--agent", "pg-1", "--params-json", "{nope"},
           {"run", "ping", "--agent", "pg-1", "--timeout", "soon"},
           {"run", "ping", "--agent", "pg-1", "--timeout", "0s"},
           {"run", "ping", "extra", "--agent", "pg-1"},
           {"run", "ping", "--agent", "pg-1", "--all"},
           {"run", "ping", "--service", "postgres", "--all", "--wait"},
           {"commands", "extra"},
           {"command"},
           {"cancel"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    CliRun r = run(args);
    EXPECT_EQ(r.code, kExitUsage) << joined << r.err;
    EXPECT_TRUE(contains(r.err, "usage: noactl")) << joined << r.err;
  }
  EXPECT_EQ(book_.size(), 0u);
}

TEST_F(CommandVerbsTest, RunWaitSucceedsAsSoonAsTheAgentAnswers) {
  FakeAgent agent(book_, [](CommandBook& book, const std::string& id) {
    noa::testing::reportResult(book, "pg-1", id, "succeeded", "", "", R"({"rtt_ms": 3})");
  });
  const auto start = std::chrono::steady_clock::now();
  CliRun r = run({"run", "ping", "--agent", "pg-1", "--wait"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms) << "not a whole wait slice";
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto cmd = only();
  EXPECT_EQ(r.err.rfind("noactl: " + cmd.id + " created for pg-1\n", 0), 0u) << r.err;
  EXPECT_TRUE(contains(r.out, "state:     succeeded")) << r.out;
  EXPECT_TRUE(contains(r.out, "HISTORY")) << r.out;
  EXPECT_TRUE(contains(r.out, "\"rtt_ms\": 3")) << r.out;
}

TEST_F(CommandVerbsTest, RunWaitShowsProgressOnStderrWhenItChanges) {
  FakeAgent agent(book_, [this](CommandBook& book, const std::string& id) {
    noa::testing::reportProgress(book, "pg-1", id, "dump", 1 << 20, 4 << 20);
    // POST, first long-poll (answered when its slice ends, with the progress), second one:
    state_.waitForCommandsCalls(3);
    noa::testing::reportResult(book, "pg-1", id, "succeeded");
  });
  CliRun r = run({"-o", "json", "run", "backup.pg_dump", "--agent", "pg-1", "--wait"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto cmd = only();
  EXPECT_TRUE(contains(r.err, "noactl: " + cmd.id + " running: dump 1.0 MiB of ~4.0 MiB\n"))
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << "created + one progress line";
  EXPECT_EQ(json::parse(r.out)["state"], "succeeded") << "stdout stays one JSON document";
}

TEST_F(CommandVerbsTest, RunWaitExits5WhenTheCommandFailsOrIsCancelled) {
  {
    FakeAgent agent(book_, [](CommandBook& book, const std::string& id) {
      noa::testing::reportResult(book, "pg-1", id, "failed", "busy", "another backup runs");
    });
    CliRun r = run({"run", "backup.pg_dump", "--agent", "pg-1", "--wait"});
    EXPECT_EQ(r.code, kExitCommandFailed) << r.err;
    EXPECT_TRUE(contains(r.err, " failed: busy: another backup runs\n")) << r.err;
    EXPECT_TRUE(contains(r.out, "result:    failed (busy): another backup runs")) << r.out;
  }
  {
    FakeAgent agent(book_, [](CommandBook& book, const std::string& id) {
      ASSERT_OK(book.cancel(id, "bob"));  // sent already: the agent is asked ...
      noa::testing::reportResult(book, "pg-1", id, "cancelled");  // ... and agrees
    });
    CliRun r = run({"run", "ping", "--agent", "pg-1", "--wait"});
    EXPECT_EQ(r.code, kExitCommandFailed) << r.err;
    EXPECT_TRUE(contains(r.err, " cancelled")) << r.err;
  }
}

TEST_F(CommandVerbsTest, CommandsListsNewestFirstWithFilters) {
  ASSERT_EQ(run({"run", "ping", "--agent", "pg-1"}).code, kExitOk);
  clock_.advance(5s);
  ASSERT_EQ(run({"run", "backup.pg_dump", "--agent", "pg-1"}).code, kExitOk);
  auto all = book_.list({});
  ASSERT_EQ(all.size(), 2u);
  noa::testing::deliverTo(book_, "pg-1");
  noa::testing::reportResult(book_, "pg-1", all[0].id, "failed", "busy", "locked");
  clock_.advance(10s);

  CliRun r = run({"commands"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind("ID                        AGENT  ACTION          STATE   AGE      "
                        "ATTEMPTS  ERROR\n",
                        0),
            0u)
      << r.out;
  EXPECT_TRUE(
      contains(r.out, all[0].id + "  pg-1   backup.pg_dump  failed  10s ago  1         busy"))
      << r.out;
  EXPECT_LT(r.out.find(all[0].id), r.out.find(all[1].id)) << "newest first";

  CliRun failed = run({"commands", "--state", "failed", "--agent", "pg-1", "--limit", "5"});
  ASSERT_EQ(failed.code, kExitOk) << failed.err;
  EXPECT_FALSE(contains(failed.out, all[1].id)) << failed.out;
  CliRun none = run({"commands", "--service", "redis"});
  EXPECT_EQ(none.out, "no commands\n");
  CliRun bad = run({"commands", "--state", "done"});
  EXPECT_EQ(bad.code, kExitHttpError);
  EXPECT_TRUE(contains(bad.err, "state must be")) << bad.err;
}

TEST_F(CommandVerbsTest, CommandShowsTargetHistoryProgressAndResult) {
  ASSERT_EQ(run({"run", "backup.pg_dump", "--service", "postgres", "--role", "primary", "--param",
                 "format=custom"})
                .code,
            kExitOk);
  const std::string id = only().id;
  noa::testing::deliverTo(book_, "pg-1");
  noa::testing::reportProgress(book_, "pg-1", id, "dump", 2048);
  CliRun running = run({"command", id});
  ASSERT_EQ(running.code, kExitOk) << running.err;
  EXPECT_TRUE(contains(running.out, "target:    pg-1 (postgres, primary)\n")) << running.out;
  EXPECT_TRUE(contains(running.out, "params:    {\"format\":\"custom\"}\n")) << running.out;
  EXPECT_TRUE(contains(running.out, "state:     running\n")) << running.out;
  EXPECT_TRUE(contains(running.out, "progress:  dump 2.0 KiB (0s ago)\n")) << running.out;
  EXPECT_TRUE(contains(running.out, "created by anonymous")) << running.out;
  EXPECT_TRUE(contains(running.out, "deadline:  2026-")) << running.out;
  EXPECT_TRUE(contains(running.out, "(in 1h)")) << running.out;

  noa::testing::reportResult(book_, "pg-1", id, "succeeded", "", "", R"({"bytes": 2048})");
  CliRun done = run({"command", id});
  ASSERT_EQ(done.code, kExitOk) << done.err;
  EXPECT_TRUE(contains(done.out, "result:    succeeded, code 0, took 12ms\n")) << done.out;
  EXPECT_TRUE(contains(done.out, "\nHISTORY\nTIME")) << done.out;
  for (const char* state : {"pending", "sent", "running", "succeeded"}) {
    EXPECT_TRUE(contains(done.out, std::string("Z  ") + state)) << state << "\n" << done.out;
  }
  EXPECT_TRUE(contains(done.out, "\nOUTPUT\n{\n  \"bytes\": 2048\n}\n")) << done.out;

  CliRun missing = run({"command", "cmd-nope"});
  EXPECT_EQ(missing.code, kExitHttpError);
  EXPECT_TRUE(contains(missing.err, "no command 'cmd-nope'")) << missing.err;
}

TEST_F(CommandVerbsTest, CancelEndsAPendingCommandAndRefusesTwice) {
  ASSERT_EQ(run({"run", "ping", "--agent", "pg-1"}).code, kExitOk);
  const std::string id = only().id;
  CliRun r = run({"cancel", id});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, id + "  pg-1   ping    cancelled")) << r.out;
  CliRun again = run({"cancel", id});
  EXPECT_EQ(again.code, kExitHttpError);
  EXPECT_TRUE(contains(again.err, "Conflict") || contains(again.err, "409")) << again.err;
  EXPECT_EQ(run({"cancel", "cmd-nope"}).code, kExitHttpError);

  ASSERT_EQ(run({"run", "ping", "--agent", "pg-1"}).code, kExitOk);
  const std::string running = book_.list({}).front().id;
  noa::testing::deliverTo(book_, "pg-1");
  noa::testing::reportProgress(book_, "pg-1", running, "ping", 0);
  CliRun asked = run({"cancel", running});
  ASSERT_EQ(asked.code, kExitOk) << asked.err;
  EXPECT_TRUE(contains(asked.out, running + "  pg-1   ping    running")) << asked.out;
  EXPECT_TRUE(contains(asked.err, "cancel requested; the agent is told")) << asked.err;
  EXPECT_TRUE(book_.get(running)->cancel_requested);
}

TEST_F(CommandVerbsTest, WaitRoundTripsAreFast) {
  FakeAgent agent(book_, [](CommandBook& book, const std::string& id) {
    noa::testing::reportResult(book, "pg-1", id, "succeeded");
  });
  std::vector<double> ms;
  for (int i = 0; i < 40; ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(run({"run", "ping", "--agent", "pg-1", "--wait"}).code, kExitOk);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  const double p50 = ms[ms.size() / 2];
  const double p99 = ms[ms.size() * 99 / 100];
  std::printf("run --wait round trip: p50 %.2f ms, p99 %.2f ms over %zu runs\n", p50, p99,
              ms.size());
  // Loose on purpose (a shared CI machine): it catches a wait slice or a poll interval, not
  // a slow disk.
  EXPECT_LT(p99, 500.0);
}

TEST(CommandVerbs, WithoutACommandChannelTheControllerSaysSo) {
  prometheus::Registry registry;
  noa::testing::FakeClock clock;
  noa::testing::FakeStateView state(registry);
  controller::ApiOptions options;
  options.port = 0;
  controller::ApiServer server(state, registry, options, clock);
  ASSERT_OK(server.start());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  std::vector<const char*> argv = {"noactl", "--controller", url.c_str(), "commands"};
  std::ostringstream out, err;
  EXPECT_EQ(runCli(static_cast<int>(argv.size()), argv.data(), out, err, clock), kExitHttpError);
  EXPECT_TRUE(contains(err.str(), "the command channel is not available")) << err.str();
}

TEST(CommandVerbs, HelpDocumentsTheVerbsAndExitCode5) {
  noa::testing::FakeClock clock;
  std::vector<const char*> argv = {"noactl", "--help"};
  std::ostringstream out, err;
  ASSERT_EQ(runCli(static_cast<int>(argv.size()), argv.data(), out, err, clock), kExitOk);
  for (const char* verb :
       {"  run ACTION (--service S [--role R] [--all] | --agent A)", "  commands [", "  command ID",
        "  cancel ID", "--wait", "5 command did not succeed"}) {
    EXPECT_TRUE(contains(out.str(), verb)) << verb << "\n" << out.str();
  }
}

TEST(CommandTables, ProgressLinesAndWrongShapes) {
  EXPECT_EQ(commandProgressLine({{"state", "acked"}}), "acked");
  EXPECT_EQ(commandProgressLine({{"state", "running"},
                                 {"cancel_requested", true},
                                 {"progress", {{"phase", "dump"}, {"bytes_done", 0}}}}),
            "running (cancel requested): dump");
  EXPECT_FALSE(renderCommands(json::array(), 0).ok());
  EXPECT_FALSE(renderCommands({{"commands", {1}}}, 0).ok());
  EXPECT_FALSE(renderCommand("x", 0).ok());
  EXPECT_EQ(*renderCommands({{"commands", json::array()}}, 0), "no commands\n");
}

}  // namespace
}  // namespace noa::cli
