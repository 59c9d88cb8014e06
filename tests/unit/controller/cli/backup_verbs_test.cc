// noactl backup now|list|show|restore|verify|pin|status and drill, in-process against a real
// ApiServer whose fake StateView holds a real BackupCoordinator, catalog and CommandBook. The
// agent's side is a thread that answers what the book delivers (fake_agent.h); the reconcile
// thread's tick() is the test's to call.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "controller/api/api_server.h"
#include "controller/cli/backup_tables.h"
#include "controller/cli/commands.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/cli/fake_agent.h"

namespace noa::cli {
namespace {

using namespace std::chrono_literals;
using controller::Liveness;
using controller::backups::BackupEntry;
using controller::backups::BackupStatus;
using controller::commands::CommandBook;
using nlohmann::json;
using noa::testing::FakeAgent;
using noa::testing::kT0;
using noa::testing::makeAgent;

constexpr const char* kPolicy = R"(
services:
  postgres:
    backups:
      - name: nightly
        kind: pg_dump
        schedule: "0 3 * * *"
        params: {dbname: app}
    drill:
      schedule: "0 5 * * 0"
      rto_target: 1h
    rpo_target: 1d
)";

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// What the agent answers: a dump's artifact, a drill's tables, else `status` with `error_code`.
FakeAgent::Answer answerWith(const std::string& status, const std::string& error_code = "") {
  return [status, error_code](CommandBook& book, const std::string& id) {
    const std::string action = book.get(id)->action;
    json output = json::object();
    if (action == "backup.pg_dump") {
      output = {{"artifact_path", "/backups/app-" + id + ".dump"},
                {"manifest_path", "/backups/app-" + id + ".dump.json"},
                {"sha256", std::string(64, 'd')},
                {"bytes", 3 << 20}};
    } else if (action == "restore.pg_restore") {
      output = {{"tables", {{"public.orders", 30000}}}};
    }
    noa::testing::reportResult(book, "pg-1", id, status, error_code,
                               error_code.empty() ? "" : "sha256 differs", output.dump());
  };
}

class BackupVerbsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary");
    pg.hello.capabilities = {"backup.pg_dump", "backup.verify", "restore.pg_restore"};
    state_.setAgents({pg});
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

  // A cataloged backup `age_ms` old, with the given checks.
  BackupEntry addEntry(int64_t age_ms, BackupStatus status = BackupStatus::kAvailable) {
    BackupEntry e;
    e.service = "postgres";
    e.agent_id = "pg-1";
    e.policy = "nightly";
    e.location = "/backups/app-" + std::to_string(age_ms) + ".dump";
    e.manifest_path = e.location + ".json";
    e.size_bytes = 2 << 20;
    e.sha256 = std::string(64, 'a');
    e.command_id = "cmd-" + std::to_string(age_ms);
    e.created_ms = kT0 - age_ms;
    e.started_ms = e.created_ms - 1000;
    e.finished_ms = e.created_ms - 100;
    e.status = status;
    auto added = coordinator_.catalog().add(e);
    EXPECT_TRUE(added.ok()) << added.status().toString();
    return added.ok() ? *added : e;
  }

  prometheus::Registry registry_;
  noa::testing::FakeClock clock_;
  noa::testing::FakeStateView state_{registry_};
  controller::backups::BackupCoordinator& coordinator_ = state_.enableBackups(clock_, kPolicy);
  CommandBook& book_ = *state_.commands();
  std::unique_ptr<controller::ApiServer> server_;
  std::string url_;
};

TEST_F(BackupVerbsTest, BackupNowWaitFollowsTheCommandAndTheResultIsListed) {
  FakeAgent agent(book_, answerWith("succeeded"));
  CliRun r = run({"backup", "now", "postgres", "--policy", "nightly", "--wait"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto command = book_.list({}).front();
  EXPECT_EQ(command.origin, "backup:postgres/nightly");
  EXPECT_EQ(command.action, "backup.pg_dump");
  EXPECT_EQ(r.err.rfind("noactl: " + command.id + " created for pg-1\n", 0), 0u) << r.err;
  EXPECT_TRUE(contains(r.out, "state:     succeeded")) << r.out;
  EXPECT_TRUE(contains(r.out, "HISTORY")) << r.out;

  coordinator_.tick();  // the reconcile thread catalogs it
  CliRun list = run({"backup", "list"});
  ASSERT_EQ(list.code, kExitOk) << list.err;
  EXPECT_EQ(list.out.rfind("ID ", 0), 0u) << list.out;
  for (const char* column :
       {"SERVICE", "POLICY", "KIND", "STATUS", "SIZE", "AGE", "PINNED", "VERIFIED", "LOCATION"}) {
    EXPECT_TRUE(contains(list.out, column)) << column << "\n" << list.out;
  }
  EXPECT_TRUE(contains(list.out, "postgres  nightly  pg_dump  available  3.0 MiB")) << list.out;
  EXPECT_TRUE(contains(list.out, "/backups/app-" + command.id + ".dump")) << list.out;
}

TEST_F(BackupVerbsTest, BackupNowWithoutWaitPrintsTheCommandAndJsonPrintsTheRecord) {
  CliRun r = run({"backup", "now", "postgres"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out.rfind("ID", 0), 0u) << r.out;
  EXPECT_TRUE(contains(r.out, "pg-1   backup.pg_dump  pending")) << r.out;
  CliRun j = run({"-o", "json", "backup", "now", "postgres", "--policy", "nightly"});
  ASSERT_EQ(j.code, kExitOk) << j.err;
  EXPECT_EQ(json::parse(j.out)["origin"], "backup:postgres/nightly");
  CliRun unknown = run({"backup", "now", "postgres", "--policy", "hourly"});
  EXPECT_EQ(unknown.code, kExitHttpError);
  EXPECT_TRUE(contains(unknown.err, "no backup policy 'hourly'")) << unknown.err;
}

TEST_F(BackupVerbsTest, ListShowsTheLastVerificationAndFilters) {
  const BackupEntry never = addEntry(3 * 3'600'000);
  const BackupEntry bad = addEntry(2 * 3'600'000, BackupStatus::kCorrupt);
  const BackupEntry good = addEntry(3'600'000);
  ASSERT_OK(coordinator_.catalog().addVerification(bad.id, {kT0 - 1000, false, "sha256", "c1"}));
  ASSERT_OK(coordinator_.catalog().addVerification(good.id, {kT0 - 1000, true, "ok", "c2"}));
  ASSERT_OK(coordinator_.catalog().setPinned(good.id, true));

  CliRun r = run({"backup", "list"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "available  2.0 MiB  1h ago  yes     ok ")) << r.out;
  EXPECT_TRUE(contains(r.out, "corrupt    2.0 MiB  2h ago  no      failed ")) << r.out;
  EXPECT_TRUE(contains(r.out, "available  2.0 MiB  3h ago  no      -  ")) << r.out;
  EXPECT_LT(r.out.find(good.id), r.out.find(never.id)) << "newest first";

  CliRun corrupt = run({"backup", "list", "--status", "corrupt", "--service", "postgres",
                        "--policy", "nightly", "--limit", "5"});
  ASSERT_EQ(corrupt.code, kExitOk) << corrupt.err;
  EXPECT_TRUE(contains(corrupt.out, bad.id)) << corrupt.out;
  EXPECT_FALSE(contains(corrupt.out, good.id)) << corrupt.out;
  EXPECT_EQ(run({"backup", "list", "--service", "redis"}).out, "no backups\n");
  CliRun wrong = run({"backup", "list", "--status", "gone"});
  EXPECT_EQ(wrong.code, kExitHttpError);
  EXPECT_TRUE(contains(wrong.err, "status must be")) << wrong.err;
}

TEST_F(BackupVerbsTest, ShowGivesDetailsVerificationsAndDrills) {
  const BackupEntry entry = addEntry(60'000);
  ASSERT_OK(coordinator_.catalog().addVerification(entry.id, {kT0 - 500, true, "re-hashed", "c1"}));
  ASSERT_OK(coordinator_.catalog().addDrill(
      entry.id, {kT0 - 100, true, 1500, 3'600'000, true, "restored 3 tables", "c2"}));
  CliRun r = run({"backup", "show", entry.id});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "id:         " + entry.id + "\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "status:     available\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "size:       2.0 MiB (2097152 bytes)\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "agent:      pg-1 (holds the artifact)\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "cataloged:  2026-")) << r.out;
  EXPECT_TRUE(contains(r.out, "(1m ago)")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nVERIFICATIONS\nTIME")) << r.out;
  EXPECT_TRUE(contains(r.out, "Z  ok  re-hashed  c1")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nDRILLS\nTIME")) << r.out;
  EXPECT_TRUE(contains(r.out, "Z  ok  1.5s     1h   yes  restored 3 tables  c2")) << r.out;

  CliRun missing = run({"backup", "show", "bk-nope"});
  EXPECT_EQ(missing.code, kExitHttpError);
  EXPECT_TRUE(contains(missing.err, "no backup 'bk-nope'")) << missing.err;
}

TEST_F(BackupVerbsTest, RestoreWaitSucceedsAndACorruptBackupIsRefusedWith409) {
  const BackupEntry entry = addEntry(1000);
  {
    FakeAgent agent(book_, answerWith("succeeded"));
    CliRun r = run({"-o", "json", "backup", "restore", entry.id, "--target-db", "app_copy",
                    "--swap", "--wait"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    const json command = json::parse(r.out);
    EXPECT_EQ(command["state"], "succeeded");
    EXPECT_EQ(command["params"]["target_db"], "app_copy");
    EXPECT_EQ(command["params"]["swap"], true);
  }
  const BackupEntry corrupt = addEntry(500, BackupStatus::kCorrupt);
  CliRun refused = run({"backup", "restore", corrupt.id, "--target-db", "app_bad"});
  EXPECT_EQ(refused.code, kExitHttpError) << refused.out;
  EXPECT_TRUE(contains(refused.err, "is corrupt")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "409")) << refused.err;
  EXPECT_EQ(book_.size(), 1u);
}

TEST_F(BackupVerbsTest, VerifyWaitOfACorruptArtifactExits5WithTheRecordOnStdout) {
  const BackupEntry entry = addEntry(1000);
  {
    FakeAgent agent(book_, answerWith("failed", "checksum_mismatch"));
    CliRun r = run({"backup", "verify", entry.id, "--wait", "--output", "json"});
    EXPECT_EQ(r.code, kExitCommandFailed) << r.err;
    const json command = json::parse(r.out);
    EXPECT_EQ(command["action"], "backup.verify");
    EXPECT_EQ(command["result"]["error_code"], "checksum_mismatch");
    EXPECT_TRUE(contains(r.err, " failed: checksum_mismatch: sha256 differs\n")) << r.err;
  }
  coordinator_.tick();
  EXPECT_EQ(coordinator_.catalog().get(entry.id)->status, BackupStatus::kCorrupt);
  {
    FakeAgent agent(book_, answerWith("succeeded"));
    CliRun again = run({"backup", "verify", entry.id});
    ASSERT_EQ(again.code, kExitOk) << again.err;
    EXPECT_TRUE(contains(again.out, "backup.verify  pending")) << again.out;
  }
}

TEST_F(BackupVerbsTest, PinAndUnpinPrintTheEntry) {
  const BackupEntry entry = addEntry(1000);
  CliRun pinned = run({"backup", "pin", entry.id, "--output", "json"});
  ASSERT_EQ(pinned.code, kExitOk) << pinned.err;
  EXPECT_EQ(json::parse(pinned.out)["pinned"], true);
  EXPECT_TRUE(coordinator_.catalog().get(entry.id)->pinned);
  CliRun unpinned = run({"backup", "pin", entry.id, "--unpin"});
  ASSERT_EQ(unpinned.code, kExitOk) << unpinned.err;
  EXPECT_TRUE(contains(unpinned.out, "PINNED")) << unpinned.out;
  EXPECT_TRUE(contains(unpinned.out, " no ")) << unpinned.out;
  EXPECT_FALSE(coordinator_.catalog().get(entry.id)->pinned);
  EXPECT_EQ(run({"backup", "pin", "bk-nope"}).code, kExitHttpError);
}

TEST_F(BackupVerbsTest, DrillWaitThenStatusShowsRpoAndTheDrill) {
  CliRun none = run({"backup", "status"});
  ASSERT_EQ(none.code, kExitOk) << none.err;
  EXPECT_TRUE(contains(none.out, "postgres  -       -    1d   no  -           -        1h   -"))
      << none.out;
  CliRun nothing = run({"drill", "postgres"});
  EXPECT_EQ(nothing.code, kExitHttpError);
  EXPECT_TRUE(contains(nothing.err, "no available pg_dump backup")) << nothing.err;

  const BackupEntry entry = addEntry(2 * 3'600'000);
  {
    FakeAgent agent(book_, answerWith("succeeded"));
    CliRun r = run({"drill", "postgres", "--wait"});
    ASSERT_EQ(r.code, kExitOk) << r.err;
    EXPECT_TRUE(contains(r.out, "state:     succeeded")) << r.out;
    EXPECT_EQ(book_.list({}).front().origin, "drill:postgres/" + entry.id);
  }
  coordinator_.tick();
  clock_.advance(30s);
  CliRun status = run({"backup", "status"});
  ASSERT_EQ(status.code, kExitOk) << status.err;
  EXPECT_EQ(status.out.rfind("SERVICE   NEWEST", 0), 0u) << status.out;
  for (const char* column : {"AGE", "RPO", "OK", "LAST-DRILL", "RESTORE", "RTO", "MET"}) {
    EXPECT_TRUE(contains(status.out, column)) << column << "\n" << status.out;
  }
  EXPECT_TRUE(contains(status.out, "postgres  " + entry.id +
                                       "  2h   1d   yes  30s ago     12ms (ok)"
                                       "  1h   yes"))
      << status.out;
  CliRun j = run({"-o", "json", "backup", "status"});
  ASSERT_EQ(j.code, kExitOk) << j.err;
  EXPECT_EQ(json::parse(j.out)["services"][0]["last_drill"]["rto_met"], true) << j.out;
}

TEST_F(BackupVerbsTest, BadBackupArgumentsAreUsageErrorsAndCreateNothing) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"backup"},
                                             {"backup", "nope"},
                                             {"backup", "now"},
                                             {"backup", "now", "postgres", "extra"},
                                             {"backup", "list", "extra"},
                                             {"backup", "show"},
                                             {"backup", "restore", "bk-1"},
                                             {"backup", "restore", "bk-1", "--target-db", ""},
                                             {"backup", "pin", "bk-1", "--wait"},
                                             {"backup", "list", "--target-db", "x"},
                                             {"backup", "now", "postgres", "--unpin"},
                                             {"backup", "status", "--policy", "nightly"},
                                             {"backup", "show", "bk-1", "--swap"},
                                             {"backup", "list", "--bogus"},
                                             {"drill"},
                                             {"drill", "postgres", "--policy", "nightly"}}) {
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    CliRun r = run(args);
    EXPECT_EQ(r.code, kExitUsage) << joined << r.err;
    EXPECT_TRUE(contains(r.err, "usage: noactl")) << joined << r.err;
  }
  EXPECT_EQ(book_.size(), 0u);
}

TEST(BackupVerbs, WithoutBackupsTheControllerSaysSo) {
  prometheus::Registry registry;
  noa::testing::FakeClock clock;
  noa::testing::FakeStateView state(registry);
  controller::ApiOptions options;
  options.port = 0;
  controller::ApiServer server(state, registry, options, clock);
  ASSERT_OK(server.start());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  std::vector<const char*> argv = {"noactl", "--controller", url.c_str(), "backup", "status"};
  std::ostringstream out, err;
  EXPECT_EQ(runCli(static_cast<int>(argv.size()), argv.data(), out, err, clock), kExitHttpError);
  EXPECT_TRUE(contains(err.str(), "backups are not available")) << err.str();
}

TEST(BackupVerbs, HelpDocumentsEveryVerb) {
  noa::testing::FakeClock clock;
  std::vector<const char*> argv = {"noactl", "--help"};
  std::ostringstream out, err;
  ASSERT_EQ(runCli(static_cast<int>(argv.size()), argv.data(), out, err, clock), kExitOk);
  for (const char* verb :
       {"backup now SERVICE [--policy P] [--wait]", "backup list [--service S] [--status S]",
        "backup show ID", "backup status", "backup restore ID --target-db DB [--swap] [--wait]",
        "backup verify ID [--wait]", "backup pin ID [--unpin]", "  drill SERVICE [--wait]",
        "run, backup or drill with --wait"}) {
    EXPECT_TRUE(contains(out.str(), verb)) << verb << "\n" << out.str();
  }
}

TEST(BackupTables, WrongShapesAndEmptyLists) {
  EXPECT_FALSE(renderBackups(json::array(), 0).ok());
  EXPECT_FALSE(renderBackups({{"backups", {1}}}, 0).ok());
  EXPECT_FALSE(renderBackup("x", 0).ok());
  EXPECT_FALSE(renderBackup({{"id", "b"}, {"drills", {1}}}, 0).ok());
  EXPECT_FALSE(renderBackupStatus({{"services", "x"}}, 0).ok());
  EXPECT_EQ(*renderBackups({{"backups", json::array()}}, 0), "no backups\n");
  EXPECT_EQ(*renderBackupStatus({{"services", json::array()}}, 0), "no services with backups\n");
  const auto manual = renderBackup(
      {{"id", "b"}, {"policy", ""}, {"status", "failed"}, {"error", "pg_dump exited 1"}}, 0);
  ASSERT_TRUE(manual.ok());
  EXPECT_TRUE(contains(*manual, "policy:     - (manual)\n")) << *manual;
  EXPECT_TRUE(contains(*manual, "status:     failed: pg_dump exited 1\n")) << *manual;
}

}  // namespace
}  // namespace noa::cli
