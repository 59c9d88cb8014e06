// The policy file: a complete file, the defaults, the sections of other modules ignored, and
// every error naming its YAML path.

#include "controller/backups/backup_policy.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/backups/backup_test_util.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::backups {
namespace {

using testing::kDay;
using testing::kHour;
using testing::kMinute;

constexpr const char* kFullFile = R"(
services:
  postgres:
    backups:
      - name: nightly-dump          # unique per service
        kind: pg_dump
        schedule: "0 3 * * *"
        retention: {max_age: 30d, min_count: 7}
        params: {backup_dir: /var/lib/noa-backups/postgres, dbname: app}
        target: {role: primary}
      - name: volume
        kind: snapshot
        schedule: "@weekly"
        retention: {max_age: 12h}
        params: {source_dir: /srv/pg, snapshot_dir: /var/lib/noa-backups/vol}
        target: {agent_id: pg-2}
    drill:
      schedule: "0 4 * * 0"
      rto_target: 1h
      scratch_db: noa_drill
    rpo_target: 15m
    autoscale: {min: 1, max: 3, anything: [goes, here]}
    failover: {mode: automatic}
  cache:
    rpo_target: 90s
)";

PolicyFile parse(const std::string& text) {
  auto parsed = parsePolicyYaml(text);
  EXPECT_OK(parsed);
  return parsed.ok() ? std::move(parsed).value() : PolicyFile{};
}

std::string parseError(const std::string& text) {
  auto parsed = parsePolicyYaml(text);
  EXPECT_FALSE(parsed.ok()) << text;
  if (!parsed.ok()) {
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
  return parsed.ok() ? "" : parsed.status().message();
}

// A file with one pg_dump backup whose entry gets `extra` lines (indented for the entry).
std::string withBackup(const std::string& extra) {
  return "services:\n  postgres:\n    backups:\n      - name: nightly\n        kind: pg_dump\n" +
         extra;
}

#define EXPECT_STARTS_WITH(text, prefix) \
  EXPECT_EQ(std::string(text).rfind(prefix, 0), 0u) << "got: " << (text)

TEST(BackupPolicy, ParsesACompleteFile) {
  const PolicyFile file = parse(kFullFile);
  ASSERT_EQ(file.services.size(), 2u);
  EXPECT_EQ(file.services[0].service, "cache");  // ordered by name
  EXPECT_EQ(file.services[0].rpo_target_ms, 90'000);
  EXPECT_TRUE(file.services[0].backups.empty());

  const ServicePolicy* pg = file.findService("postgres");
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg->rpo_target_ms, 15 * kMinute);
  ASSERT_EQ(pg->backups.size(), 2u);
  const BackupJobPolicy& dump = pg->backups[0];
  EXPECT_EQ(dump.name, "nightly-dump");
  EXPECT_EQ(dump.kind, BackupKind::kPgDump);
  EXPECT_EQ(dump.schedule.text(), "0 3 * * *");
  EXPECT_EQ(dump.retention, (RetentionPolicy{30 * kDay, 7}));
  EXPECT_EQ(dump.params,
            (nlohmann::json{{"backup_dir", "/var/lib/noa-backups/postgres"}, {"dbname", "app"}}));
  EXPECT_EQ(dump.target, (BackupTarget{"", "primary"}));
  const BackupJobPolicy& volume = pg->backups[1];
  EXPECT_EQ(volume.kind, BackupKind::kSnapshot);
  EXPECT_EQ(volume.retention, (RetentionPolicy{12 * kHour, kDefaultMinCount}));
  EXPECT_EQ(volume.target, (BackupTarget{"pg-2", ""}));
  ASSERT_TRUE(pg->drill.has_value());
  EXPECT_EQ(pg->drill->schedule.text(), "0 4 * * 0");
  EXPECT_EQ(pg->drill->rto_target_ms, kHour);
  EXPECT_EQ(pg->drill->scratch_db, "noa_drill");
  EXPECT_EQ(pg->drill->backup, "nightly-dump");
  EXPECT_EQ(file.findBackup("postgres", "volume"), &pg->backups[1]);
  EXPECT_EQ(file.findBackup("postgres", "nope"), nullptr);
  EXPECT_EQ(file.findBackup("nope", "volume"), nullptr);
}

TEST(BackupPolicy, DefaultsComeFromTheSeeds) {
  const PolicyFile file = parse(R"(
services:
  postgres:
    backups:
      - {name: dump, kind: pg_dump}
    drill: {schedule: "@weekly"}
  redis:
    backups:
      - {name: vol, kind: snapshot}
)");
  const ServicePolicy* pg = file.findService("postgres");
  ASSERT_NE(pg, nullptr);
  const BackupJobPolicy& dump = pg->backups.at(0);
  EXPECT_EQ(dump.schedule.text(), "@daily");
  EXPECT_EQ(dump.retention, (RetentionPolicy{30 * kDay, 3}));
  EXPECT_EQ(dump.target, (BackupTarget{"", "primary"}));
  EXPECT_EQ(dump.params, nlohmann::json::object());
  EXPECT_EQ(pg->rpo_target_ms, 15 * kMinute);
  EXPECT_EQ(pg->drill->rto_target_ms, kHour);
  EXPECT_EQ(pg->drill->scratch_db, "noa_drill");
  EXPECT_EQ(pg->drill->backup, "dump");
  const BackupJobPolicy& vol = file.findService("redis")->backups.at(0);
  EXPECT_EQ(vol.retention, (RetentionPolicy{7 * kDay, 3}));
  EXPECT_EQ(vol.target, (BackupTarget{"", ""}));  // any member
  EXPECT_FALSE(file.findService("redis")->drill.has_value());
}

TEST(BackupPolicy, EmptyFilesHaveNoPolicies) {
  EXPECT_TRUE(parse("").services.empty());
  EXPECT_TRUE(parse("# nothing yet\n").services.empty());
  EXPECT_TRUE(parse("services:\n").services.empty());
  const PolicyFile bare = parse("services:\n  postgres:\n");
  ASSERT_EQ(bare.services.size(), 1u);
  EXPECT_EQ(bare.services[0].rpo_target_ms, kDefaultRpoTargetMs);
}

TEST(BackupPolicy, TargetRoleAnyMeansAnyMember) {
  const PolicyFile file = parse(withBackup("        target: {role: any}\n"));
  EXPECT_EQ(file.services.at(0).backups.at(0).target, (BackupTarget{"", ""}));
  const PolicyFile replica = parse(withBackup("        target: {role: replica}\n"));
  EXPECT_EQ(replica.services.at(0).backups.at(0).target, (BackupTarget{"", "replica"}));
}

TEST(BackupPolicy, ParamsKeepYamlTypes) {
  const PolicyFile file = parse(withBackup(
      "        params: {jobs: 2, verify: false, name: \"007\", ratio: 1.5, port: '5432',\n"
      "                 list: [a, 1, null], nested: {x: ~}, text: 12h, flag: \"true\"}\n"));
  const nlohmann::json expected = {{"jobs", 2},
                                   {"verify", false},
                                   {"name", "007"},
                                   {"ratio", 1.5},
                                   {"port", "5432"},
                                   {"list", nlohmann::json::array({"a", 1, nullptr})},
                                   {"nested", {{"x", nullptr}}},
                                   {"text", "12h"},
                                   {"flag", "true"}};  // quoted: a string
  EXPECT_EQ(file.services.at(0).backups.at(0).params, expected);
}

TEST(BackupPolicy, OtherModulesSectionsAreIgnoredButNothingElse) {
  const PolicyFile file = parse("services:\n  web:\n    autoscale: [whatever]\n    failover: 3\n");
  EXPECT_TRUE(file.services.at(0).backups.empty());
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backup: []\n"),
                     "services.postgres: unknown key 'backup' (known: backups, drill, rpo_target, "
                     "autoscale, failover) (line 3)");
  EXPECT_STARTS_WITH(parseError("version: 1\nservices: {}\n"),
                     "policy: unknown key 'version' (known: services)");
  EXPECT_STARTS_WITH(parseError(withBackup("        schedul: '@daily'\n")),
                     "services.postgres.backups[0]: unknown key 'schedul'");
  EXPECT_STARTS_WITH(parseError(withBackup("        retention: {max_age: 1d, keep: 3}\n")),
                     "services.postgres.backups[0].retention: unknown key 'keep'");
  EXPECT_STARTS_WITH(parseError(withBackup("        target: {host: a}\n")),
                     "services.postgres.backups[0].target: unknown key 'host'");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backups: [{name: a, kind: pg_dump}]\n"
                                "    drill: {schedule: '@daily', rto: 1h}\n"),
                     "services.postgres.drill: unknown key 'rto'");
}

TEST(BackupPolicy, EveryErrorNamesItsYamlPath) {
  EXPECT_STARTS_WITH(parseError(withBackup("        schedule: \"61 3 * * *\"\n")),
                     "services.postgres.backups[0].schedule: bad minute field '61': '61' is out "
                     "of range 0-59");
  EXPECT_STARTS_WITH(parseError(withBackup("        schedule: '0 0 30 2 *'\n")),
                     "services.postgres.backups[0].schedule: never fires");
  EXPECT_STARTS_WITH(parseError(withBackup("        schedule: [1]\n")),
                     "services.postgres.backups[0].schedule: expected a string");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backups:\n      - kind: pg_dump\n"),
                     "services.postgres.backups[0].name: required");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backups:\n      - name: a\n"),
                     "services.postgres.backups[0].kind: required (pg_dump | snapshot)");
  EXPECT_STARTS_WITH(
      parseError("services:\n  postgres:\n    backups:\n      - {name: a, kind: tar}\n"),
      "services.postgres.backups[0].kind: unknown kind 'tar' (known: pg_dump, snapshot)");
  EXPECT_STARTS_WITH(
      parseError("services:\n  postgres:\n    backups:\n      - {name: 'a b', kind: pg_dump}\n"),
      "services.postgres.backups[0].name: 'a b' is not a name");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backups:\n"
                                "      - {name: a, kind: pg_dump}\n"
                                "      - {name: a, kind: snapshot}\n"),
                     "services.postgres.backups[1].name: duplicate name 'a' (also backups[0])");
  EXPECT_STARTS_WITH(parseError(withBackup("        retention: {max_age: 30x}\n")),
                     "services.postgres.backups[0].retention.max_age: duration '30x' has unknown "
                     "unit 'x'");
  EXPECT_STARTS_WITH(parseError(withBackup("        retention: {max_age: 0d}\n")),
                     "services.postgres.backups[0].retention.max_age: must be greater than 0");
  EXPECT_STARTS_WITH(parseError(withBackup("        retention: {min_count: 0}\n")),
                     "services.postgres.backups[0].retention.min_count: '0' must be a whole "
                     "number 1-10000");
  EXPECT_STARTS_WITH(parseError(withBackup("        retention: {min_count: many}\n")),
                     "services.postgres.backups[0].retention.min_count: 'many' must be");
  EXPECT_STARTS_WITH(parseError(withBackup("        retention: 30d\n")),
                     "services.postgres.backups[0].retention: expected a map");
  EXPECT_STARTS_WITH(parseError(withBackup("        target: {role: primary, agent_id: pg-1}\n")),
                     "services.postgres.backups[0].target: give either role or agent_id");
  EXPECT_STARTS_WITH(parseError(withBackup("        target: {agent_id: 'pg 1'}\n")),
                     "services.postgres.backups[0].target.agent_id: 'pg 1' is not an agent id");
  EXPECT_STARTS_WITH(parseError(withBackup("        params: [a]\n")),
                     "services.postgres.backups[0].params: expected a map");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backups: {name: a}\n"),
                     "services.postgres.backups: expected a list");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    backups: [nightly]\n"),
                     "services.postgres.backups[0]: expected a map");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    rpo_target: soon\n"),
                     "services.postgres.rpo_target: duration 'soon' must start with a number");
  EXPECT_STARTS_WITH(parseError("services: [postgres]\n"), "services: expected a map");
  EXPECT_STARTS_WITH(parseError("services:\n  'bad name':\n"),
                     "services: 'bad name' is not a service name");
  EXPECT_STARTS_WITH(parseError("- a\n- b\n"), "policy: expected a map with the key 'services'");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres: {}\n  postgres: {}\n"),
                     "services: duplicate service 'postgres'");
  EXPECT_STARTS_WITH(parseError(withBackup("        kind: snapshot\n")),
                     "services.postgres.backups[0]: duplicate key 'kind'");
}

TEST(BackupPolicy, DrillErrors) {
  const std::string pg =
      "services:\n  postgres:\n    backups:\n"
      "      - {name: dump, kind: pg_dump, params: {dbname: app}}\n";
  EXPECT_STARTS_WITH(parseError(pg + "    drill: {rto_target: 1h}\n"),
                     "services.postgres.drill.schedule: required");
  EXPECT_STARTS_WITH(parseError(pg + "    drill: {schedule: '0 4 * * 8'}\n"),
                     "services.postgres.drill.schedule: bad day-of-week field '8'");
  EXPECT_STARTS_WITH(parseError(pg + "    drill: {schedule: '@weekly', rto_target: 0s}\n"),
                     "services.postgres.drill.rto_target: must be greater than 0");
  EXPECT_STARTS_WITH(parseError(pg + "    drill: {schedule: '@weekly', backup: other}\n"),
                     "services.postgres.drill.backup: no backup named 'other' in this service");
  EXPECT_STARTS_WITH(parseError(pg + "    drill: {schedule: '@weekly', scratch_db: app}\n"),
                     "services.postgres.drill.scratch_db: 'app' is the database backup 'dump' "
                     "dumps");
  EXPECT_STARTS_WITH(parseError(pg + "    drill: {schedule: '@weekly', scratch_db: 'Drill-1'}\n"),
                     "services.postgres.drill.scratch_db: 'Drill-1' is not a plain database name");
  EXPECT_STARTS_WITH(parseError("services:\n  postgres:\n    drill: {schedule: '@weekly'}\n"),
                     "services.postgres.drill: the service has no backups to drill");
  EXPECT_STARTS_WITH(parseError(pg + "    drill: weekly\n"),
                     "services.postgres.drill: expected a map");
}

TEST(BackupPolicy, YamlSyntaxErrorsSayWhere) {
  const std::string message = parseError("services:\n  postgres:\n    backups: [\n");
  EXPECT_STARTS_WITH(message, "line ");
  EXPECT_NE(message.find("column"), std::string::npos);
  EXPECT_STARTS_WITH(parseError("services: {a: 1\n"), "line ");
}

TEST(BackupPolicy, LoadsAFileAndPrefixesErrorsWithItsPath) {
  controller::testing::TempDir dir;
  const std::string path = dir.path() + "/policy.yaml";
  {
    std::ofstream out(path);
    out << kFullFile;
  }
  auto loaded = loadPolicyFile(path);
  ASSERT_OK(loaded);
  EXPECT_EQ(loaded->path, path);
  EXPECT_EQ(loaded->services.size(), 2u);

  {
    std::ofstream out(path);
    out << "services:\n  postgres:\n    rpo: 1m\n";
  }
  auto bad = loadPolicyFile(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_STARTS_WITH(bad.status().message(),
                     "policy file '" + path + "': services.postgres: unknown key 'rpo'");

  auto missing = loadPolicyFile(dir.path() + "/nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
}

}  // namespace
}  // namespace noa::controller::backups
