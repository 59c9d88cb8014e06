// The BackupCoordinator over a real CommandBook and BackupCatalog (RocksDB in a temporary
// directory) on a fake clock: schedules become commands, succeeded backups become catalog
// entries exactly once (also across a restart), failed ones none; retention prunes through a
// command and marks what the agent deleted; verify and drills record their outcome. The agent's
// side is played by applying progress and results to the book, as the ingest thread would.
// BackupMetrics is checked here too, over the same coordinator, in the exposition text.

#include "controller/backups/backup_coordinator.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cstdlib>
#include <optional>

#include "controller/backups/backup_metrics.h"

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/backups/backup_test_util.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::backups {
namespace {

using commands::CommandRecord;
using commands::CommandState;
using nlohmann::json;
using std::chrono::hours;
using std::chrono::minutes;

constexpr const char* kPolicy = R"(
services:
  postgres:
    backups:
      - name: nightly
        kind: pg_dump
        schedule: "0 3 * * *"
        retention: {max_age: 36h, min_count: 2}
        params: {dbname: app}
    drill:
      schedule: "0 4 * * 0"
      rto_target: 1h
    rpo_target: 1d
)";

class BackupCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open({dir_.path()});
    ASSERT_OK(store);
    store_ = std::move(store).value();
    auto book = commands::CommandBook::open(*store_, clock_);
    ASSERT_OK(book);
    book_ = std::move(book).value();
    auto policy = parsePolicyYaml(kPolicy);
    ASSERT_OK(policy);
    policy_ = *policy;
    AgentRecord pg;
    pg.hello.agent_id = "pg-1";
    pg.hello.service = "postgres";
    pg.hello.kind = "postgres";
    pg.hello.capabilities = {"backup.pg_dump", "backup.verify", "ping", "restore.pg_restore",
                             "retention.prune"};
    pg.liveness = Liveness::kAlive;
    pg.has_report = true;
    pg.last_report.role = "primary";
    agents_ = {pg};
    restart();
    coordinator_->tick();  // the controller's first sight of the schedules
  }

  // A new controller process: catalog and coordinator reopened over the same store.
  void restart() {
    coordinator_.reset();
    catalog_.reset();
    auto catalog = BackupCatalog::open(*store_, clock_);
    ASSERT_OK(catalog);
    catalog_ = std::move(catalog).value();
    coordinator_ = std::make_unique<BackupCoordinator>(
        *catalog_, *book_, [this] { return agents_; }, policy_, clock_);
    ASSERT_OK(coordinator_->start());
  }

  // Moves the clock to the next `hour`:`minute` UTC plus a few seconds.
  void advanceTo(int hour, int minute = 0) {
    const int64_t now = toUnixMillis(clock_.wallNow());
    const int64_t day = now - now % testing::kDay;
    int64_t target = day + hour * testing::kHour + minute * testing::kMinute + 5000;
    if (target <= now) target += testing::kDay;
    clock_.advance(std::chrono::milliseconds(target - now));
  }

  std::vector<CommandRecord> commandsWithOrigin(const std::string& prefix) {
    std::vector<CommandRecord> out;
    for (auto& c : book_->list({})) {
      if (c.origin.rfind(prefix, 0) == 0) out.push_back(c);
    }
    return out;
  }

  // Plays the agent: takes the command, runs it, answers with `status` and `output`.
  void finish(const CommandRecord& c, const std::string& status, json output = json::object(),
              const std::string& error_code = "", uint64_t duration_ms = 1200) {
    ASSERT_OK(book_->claimDeliveries(c.agent_id));
    protocol::Progress running;
    running.command_id = c.id;
    running.state = protocol::kProgressRunning;
    ASSERT_OK(book_->applyProgress(c.agent_id, running));
    protocol::CommandResult r;
    r.command_id = c.id;
    r.status = status;
    r.error_code = error_code;
    r.error = error_code.empty() ? "" : "it went wrong";
    r.output_json = output.dump();
    r.duration_ms = duration_ms;
    ASSERT_OK(book_->applyResult(c.agent_id, r));
  }

  json dumpOutput(const std::string& name) {
    return {{"artifact_path", "/backups/" + name},
            {"manifest_path", "/backups/" + name + ".json"},
            {"sha256", std::string(64, 'b')},
            {"bytes", 4096},
            {"verified", true}};
  }

  // One scheduled nightly backup, run to success; returns its catalog entry.
  BackupEntry nightlyBackup(const std::string& name) {
    advanceTo(3);
    coordinator_->tick();
    auto due = commandsWithOrigin("backup:postgres/nightly");
    EXPECT_FALSE(due.empty());
    CommandRecord newest = due.front();  // list() is newest first
    finish(newest, "succeeded", dumpOutput(name));
    coordinator_->tick();
    for (const auto& e : catalog_->list({"postgres", std::nullopt, std::nullopt, 100})) {
      if (e.command_id == newest.id) return e;
    }
    ADD_FAILURE() << "not cataloged: " << newest.id;
    return {};
  }

  noa::controller::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<commands::CommandBook> book_;
  std::unique_ptr<BackupCatalog> catalog_;
  std::unique_ptr<BackupCoordinator> coordinator_;
  PolicyFile policy_;
  std::vector<AgentRecord> agents_;
};

TEST_F(BackupCoordinatorTest, ScheduleFiresACommandOnThePrimaryAndItsResultIsCatalogedOnce) {
  EXPECT_TRUE(book_->list({}).empty()) << "nothing fires at first sight";
  advanceTo(3);
  coordinator_->tick();
  auto due = commandsWithOrigin("backup:postgres/nightly");
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].action, "backup.pg_dump");
  EXPECT_EQ(due[0].agent_id, "pg-1");
  EXPECT_EQ(due[0].role, "primary");
  EXPECT_EQ(due[0].params, json({{"dbname", "app"}}));
  EXPECT_GT(due[0].deadline_ms, 0) << "never without a deadline";
  coordinator_->tick();
  EXPECT_EQ(commandsWithOrigin("backup:").size(), 1u) << "one slot, one command";

  finish(due[0], "succeeded", dumpOutput("app-1.dump"));
  coordinator_->tick();
  auto entries = catalog_->list({"postgres", std::nullopt, std::nullopt, 100});
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].policy, "nightly");
  EXPECT_EQ(entries[0].location, "/backups/app-1.dump");
  EXPECT_EQ(entries[0].size_bytes, 4096u);
  EXPECT_EQ(entries[0].status, BackupStatus::kAvailable);
  ASSERT_EQ(entries[0].verifications.size(), 1u);
  EXPECT_TRUE(entries[0].verifications[0].ok);

  restart();
  coordinator_->tick();
  EXPECT_EQ(catalog_->size(), 1u) << "a restart does not catalog it again";
  // The schedule's watermark survived too: no second run of the same slot.
  EXPECT_EQ(commandsWithOrigin("backup:").size(), 1u);
}

TEST_F(BackupCoordinatorTest, FailedBackupLeavesNoCatalogEntry) {
  advanceTo(3);
  coordinator_->tick();
  finish(commandsWithOrigin("backup:")[0], "failed", {{"stderr_tail", "pg_dump: error"}},
         "tool_failed");
  coordinator_->tick();
  EXPECT_EQ(catalog_->size(), 0u);
}

TEST_F(BackupCoordinatorTest, ManualBackupOfAnOperatorIsCatalogedToo) {
  auto c = coordinator_->backupNow("postgres", "", "alice");
  ASSERT_OK(c);
  EXPECT_EQ(c->origin, "backup:postgres/nightly") << "the service's first pg_dump policy";
  finish(*c, "succeeded", dumpOutput("manual.dump"));
  // And one an operator ran by hand with `noactl run backup.pg_dump` (no origin).
  commands::NewCommand n;
  n.target = {"pg-1", "postgres", ""};
  n.action = "backup.pg_dump";
  n.created_by = "bob";
  auto by_hand = book_->create(n);
  ASSERT_OK(by_hand);
  finish(*by_hand, "succeeded", dumpOutput("by-hand.dump"));
  coordinator_->tick();
  ASSERT_EQ(catalog_->size(), 2u);
  EXPECT_EQ(coordinator_->backupNow("postgres", "weekly", "alice").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(coordinator_->backupNow("redis", "", "alice").status().code(), StatusCode::kNotFound)
      << "no live redis agent";
}

TEST_F(BackupCoordinatorTest, RetentionKeepsTheMinimumAndPrunesTheOldThroughTheAgent) {
  std::vector<BackupEntry> made;
  std::vector<CommandRecord> prunes;
  for (int day = 0; day < 4; ++day) {
    made.push_back(nightlyBackup("d" + std::to_string(day) + ".dump"));
    for (const auto& p : commandsWithOrigin("retention:postgres/nightly")) {
      if (commands::isTerminal(p.state)) continue;
      prunes.push_back(p);
      coordinator_->tick();
      EXPECT_EQ(commandsWithOrigin("retention:").size(), prunes.size())
          << "one prune at a time per policy";
      json deleted = json::array();
      for (const auto& name : p.params["artifacts"]) deleted.push_back({{"name", name}});
      finish(p, "succeeded", {{"deleted", deleted}, {"kept", json::array()}});
      coordinator_->tick();
    }
  }
  // Day 2: d0 is 48 h old (> 36 h) and beyond the newest two; day 3: d1.
  ASSERT_EQ(prunes.size(), 2u);
  EXPECT_EQ(prunes[0].action, "retention.prune");
  EXPECT_EQ(prunes[0].params["backup_dir"], "/backups");
  EXPECT_EQ(prunes[0].params["artifacts"], json::array({"d0.dump"}));
  EXPECT_EQ(prunes[1].params["artifacts"], json::array({"d1.dump"}));
  EXPECT_EQ(catalog_->get(made[0].id)->status, BackupStatus::kPruned);
  EXPECT_EQ(catalog_->get(made[1].id)->status, BackupStatus::kPruned);
  EXPECT_EQ(catalog_->get(made[2].id)->status, BackupStatus::kAvailable);
  EXPECT_EQ(catalog_->get(made[3].id)->status, BackupStatus::kAvailable);
  coordinator_->tick();
  EXPECT_EQ(commandsWithOrigin("retention:").size(), 2u) << "nothing more to prune";
}

TEST_F(BackupCoordinatorTest, PinnedBackupIsNeverPruned) {
  BackupEntry first = nightlyBackup("p0.dump");
  ASSERT_OK(coordinator_->setPinned(first.id, true));
  for (int day = 1; day < 4; ++day) nightlyBackup("p" + std::to_string(day) + ".dump");
  auto prunes = commandsWithOrigin("retention:");
  ASSERT_EQ(prunes.size(), 1u);
  EXPECT_EQ(prunes[0].params["artifacts"], json::array({"p1.dump"}));
  EXPECT_EQ(prunes[0].params["pinned"], json::array({"p0.dump"}));
}

TEST_F(BackupCoordinatorTest, VerifyFindingAMismatchMarksTheBackupCorrupt) {
  BackupEntry e = nightlyBackup("v.dump");
  auto v = coordinator_->verify(e.id, "alice");
  ASSERT_OK(v);
  EXPECT_EQ(v->action, "backup.verify");
  EXPECT_EQ(v->params["artifact"], "/backups/v.dump");
  EXPECT_EQ(v->params["sha256"], e.sha256);
  finish(*v, "failed", json::object(), "checksum_mismatch");
  coordinator_->tick();
  auto after = catalog_->get(e.id);
  EXPECT_EQ(after->status, BackupStatus::kCorrupt);
  ASSERT_EQ(after->verifications.size(), 2u);
  EXPECT_FALSE(after->verifications.back().ok);
  EXPECT_EQ(coordinator_->restore(e.id, "app_copy", false, "alice").status().code(),
            StatusCode::kFailedPrecondition)
      << "a corrupt backup is not restored";
}

TEST_F(BackupCoordinatorTest, DrillRestoresTheNewestIntoScratchAndRecordsTheRto) {
  EXPECT_EQ(coordinator_->drill("postgres", "alice").status().code(),
            StatusCode::kFailedPrecondition)
      << "nothing to drill yet";
  nightlyBackup("old.dump");
  BackupEntry newest = nightlyBackup("new.dump");
  auto d = coordinator_->drill("postgres", "alice");
  ASSERT_OK(d);
  EXPECT_EQ(d->action, "restore.pg_restore");
  EXPECT_EQ(d->params["artifact"], "/backups/new.dump");
  EXPECT_EQ(d->params["target_db"], "noa_drill");
  EXPECT_EQ(d->params["scratch"], true);
  finish(*d, "succeeded", {{"tables", {{"public.orders", 20000}}}}, "", 42'000);
  coordinator_->tick();
  auto after = catalog_->get(newest.id);
  ASSERT_EQ(after->drills.size(), 1u);
  EXPECT_TRUE(after->drills[0].ok);
  EXPECT_EQ(after->drills[0].restore_ms, 42'000);
  EXPECT_TRUE(after->drills[0].rto_met);
  auto status = coordinator_->status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].service, "postgres");
  EXPECT_TRUE(status[0].rpo.ok) << status[0].rpo.reason;
  ASSERT_TRUE(status[0].last_drill);
  EXPECT_EQ(status[0].last_drill_backup_id, newest.id);
  EXPECT_EQ(status[0].rto_target_ms, 3'600'000);
}

TEST_F(BackupCoordinatorTest, RestoreGoesToTheAgentHoldingTheArtifact) {
  BackupEntry e = nightlyBackup("r.dump");
  auto r = coordinator_->restore(e.id, "app_restored", false, "alice");
  ASSERT_OK(r);
  EXPECT_EQ(r->agent_id, "pg-1");
  EXPECT_EQ(r->params, json({{"artifact", "/backups/r.dump"},
                             {"sha256", e.sha256},
                             {"target_db", "app_restored"},
                             {"swap", false}}));
  EXPECT_EQ(coordinator_->restore("bk-nope", "x", false, "a").status().code(),
            StatusCode::kNotFound);
}

// The value of `name`{service="postgres"} in one scrape of `registry`, nullopt when absent.
std::optional<double> sample(prometheus::Registry& registry, const std::string& name) {
  const std::string text = prometheus::TextSerializer().Serialize(registry.Collect());
  const std::string prefix = "\n" + name + "{service=\"postgres\"} ";
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return std::nullopt;
  return std::strtod(text.c_str() + at + prefix.size(), nullptr);
}

TEST_F(BackupCoordinatorTest, MetricsShowTheTargetsAndNoRecoveryPointBeforeTheFirstBackup) {
  prometheus::Registry registry;
  BackupMetrics metrics(registry);
  metrics.refresh(*coordinator_);
  EXPECT_EQ(sample(registry, "noa_backup_rpo_ok"), 0.0) << "no backup is no RPO";
  EXPECT_EQ(sample(registry, "noa_backup_rpo_target_seconds"), 86'400.0);
  EXPECT_EQ(sample(registry, "noa_drill_rto_target_seconds"), 3'600.0);
  EXPECT_EQ(sample(registry, "noa_backup_newest_age_seconds"), std::nullopt);
  EXPECT_EQ(sample(registry, "noa_drill_last_success"), std::nullopt);
  EXPECT_EQ(sample(registry, "noa_drill_last_duration_seconds"), std::nullopt);
}

TEST_F(BackupCoordinatorTest, MetricsFollowTheNewestBackupAndTheNewestDrill) {
  prometheus::Registry registry;
  BackupMetrics metrics(registry);
  nightlyBackup("new.dump");
  clock_.advance(minutes(30));
  metrics.refresh(*coordinator_);
  EXPECT_EQ(sample(registry, "noa_backup_rpo_ok"), 1.0);
  const auto status = coordinator_->status();
  ASSERT_EQ(status.size(), 1u);
  const auto age = sample(registry, "noa_backup_newest_age_seconds");
  ASSERT_TRUE(age);
  EXPECT_DOUBLE_EQ(*age, status[0].rpo.age_ms / 1000.0);
  EXPECT_GE(*age, 30 * 60.0) << "the age moves with the clock, at every scrape";

  auto ok = coordinator_->drill("postgres", "alice");
  ASSERT_OK(ok);
  finish(*ok, "succeeded", {{"tables", {{"public.orders", 20000}}}}, "", 42'000);
  coordinator_->tick();
  metrics.refresh(*coordinator_);
  EXPECT_EQ(sample(registry, "noa_drill_last_success"), 1.0);
  EXPECT_EQ(sample(registry, "noa_drill_last_duration_seconds"), 42.0);

  clock_.advance(minutes(5));
  auto failed = coordinator_->drill("postgres", "alice");
  ASSERT_OK(failed);
  finish(*failed, "failed", json::object(), "restore_failed", 7'000);
  coordinator_->tick();
  metrics.refresh(*coordinator_);
  EXPECT_EQ(sample(registry, "noa_drill_last_success"), 0.0) << "the newest drill counts";
  EXPECT_EQ(sample(registry, "noa_drill_last_duration_seconds"), std::nullopt)
      << "the time a drill took to fail is no RTO";

  clock_.advance(hours(25));
  metrics.refresh(*coordinator_);
  EXPECT_EQ(sample(registry, "noa_backup_rpo_ok"), 0.0) << "older than rpo_target 1d";
}

TEST_F(BackupCoordinatorTest, MetricsOfAServiceThatIsGoneAreRemoved) {
  prometheus::Registry registry;
  BackupMetrics metrics(registry);
  metrics.refresh(*coordinator_);
  ASSERT_TRUE(sample(registry, "noa_backup_rpo_ok"));
  metrics.update({});
  EXPECT_EQ(sample(registry, "noa_backup_rpo_ok"), std::nullopt);
  EXPECT_EQ(sample(registry, "noa_backup_rpo_target_seconds"), std::nullopt);
  EXPECT_EQ(sample(registry, "noa_drill_rto_target_seconds"), std::nullopt);
}

}  // namespace
}  // namespace noa::controller::backups
