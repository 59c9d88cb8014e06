// The backup routes through the route table (dispatch, no socket) against a real
// BackupCoordinator, BackupCatalog and CommandBook over a store in a temporary directory. The
// agent's side is played by applying results to the book; the reconcile thread's tick() is
// called by hand.

#include "controller/api/backups_handler.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/api/problem.h"
#include "controller/api/routes.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_agent_side.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::controller::api {
namespace {

using backups::BackupEntry;
using backups::BackupKind;
using backups::BackupStatus;
using nlohmann::json;
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
      - name: volume
        kind: snapshot
        schedule: "0 4 * * *"
    drill:
      schedule: "0 5 * * 0"
      rto_target: 1h
      scratch_db: noa_drill
      backup: nightly
    rpo_target: 1d
)";

AgentRecord backupAgent(const std::string& id, Liveness liveness, const std::string& role) {
  AgentRecord a = makeAgent(id, "postgres", "postgres", liveness, "healthy", role);
  a.hello.capabilities = {"backup.pg_dump", "backup.verify", "restore.pg_restore",
                          "snapshot.create"};
  return a;
}

class BackupsHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.setAgents({backupAgent("pg-1", Liveness::kAlive, "primary"),
                      backupAgent("pg-9", Liveness::kLost, "replica")});
  }

  ApiResponse call(const std::string& method, const std::string& path, const std::string& body = "",
                   std::multimap<std::string, std::string> query = {},
                   const std::string& token = "") {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    request.query = std::move(query);
    if (!token.empty()) request.authorization = "Bearer " + token;
    const ApiContext context{state_, clock_, token.empty() ? nullptr : auth_.get()};
    return dispatch(context, std::move(request));
  }

  // A 4xx problem with `text` in its detail; returns the problem.
  json expectProblem(const ApiResponse& res, int status, const std::string& text) {
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(res.content_type, kProblemContentType);
    json problem = json::parse(res.body, nullptr, false);
    EXPECT_NE(problem.value("detail", "").find(text), std::string::npos) << res.body;
    return problem;
  }

  void expectBadField(const std::string& path, const std::string& body, const std::string& field,
                      const std::string& text) {
    const json problem = expectProblem(call("POST", path, body), 400, text);
    EXPECT_EQ(problem.value("field", ""), field) << path << " " << body;
  }

  // A catalog entry as a finished backup would leave it; `age_ms` before kT0.
  BackupEntry addEntry(int64_t age_ms, const std::string& policy = "nightly",
                       BackupStatus status = BackupStatus::kAvailable,
                       BackupKind kind = BackupKind::kPgDump, const std::string& agent = "pg-1") {
    BackupEntry e;
    e.service = "postgres";
    e.agent_id = agent;
    e.policy = policy;
    e.kind = kind;
    e.location = "/backups/app-" + std::to_string(age_ms) + ".dump";
    e.manifest_path = e.location + ".json";
    e.size_bytes = 4096;
    e.sha256 = std::string(64, 'b');
    e.command_id = "cmd-" + std::to_string(age_ms);
    e.created_ms = kT0 - age_ms;
    e.started_ms = e.created_ms - 2000;
    e.finished_ms = e.created_ms - 100;
    e.status = status;
    Result<BackupEntry> added = coordinator_.catalog().add(e);
    EXPECT_TRUE(added.ok()) << added.status().toString();
    return added.ok() ? *added : e;
  }

  // The command of a 201 answer, after checking its Location.
  json created(const ApiResponse& res) {
    EXPECT_EQ(res.status, 201) << res.body;
    json body = json::parse(res.body, nullptr, false);
    if (res.status != 201 || !body.is_object()) return json::object();
    EXPECT_EQ(res.headers.size(), 1u);
    if (!res.headers.empty()) {
      EXPECT_EQ(res.headers[0], (std::pair<std::string, std::string>{
                                    "Location", "/v1/commands/" + body["id"].get<std::string>()}));
    }
    EXPECT_TRUE(book_.get(body["id"]).has_value()) << "stored";
    return body;
  }

  // Plays pg-1: takes what is due and answers `id` with `status` and `output`.
  void agentAnswers(const std::string& id, const std::string& status, const json& output,
                    const std::string& error_code = "") {
    noa::testing::deliverTo(book_, "pg-1");
    noa::testing::reportResult(book_, "pg-1", id, status, error_code,
                               error_code.empty() ? "" : "it went wrong", output.dump());
    coordinator_.tick();  // the reconcile thread catalogs the result
  }

  std::vector<std::string> listIds(std::multimap<std::string, std::string> query) {
    ApiResponse res = call("GET", "/v1/backups", "", std::move(query));
    EXPECT_EQ(res.status, 200) << res.body;
    std::vector<std::string> out;
    const json body = json::parse(res.body);  // named: a temporary would end before the loop
    for (const json& b : body["backups"]) out.push_back(b["id"]);
    return out;
  }

  prometheus::Registry registry_;
  noa::testing::FakeClock clock_;
  noa::testing::FakeStateView state_{registry_};
  backups::BackupCoordinator& coordinator_ = state_.enableBackups(clock_, kPolicy);
  commands::CommandBook& book_ = *state_.commands();
  std::shared_ptr<Authenticator> auth_ = noa::testing::makeTestAuthenticator();
};

TEST_F(BackupsHandlerTest, BackupNowCreatesTheCommandAndItsResultIsListed) {
  const json command =
      created(call("POST", "/v1/backups", R"({"service": "postgres", "policy": "nightly"})", {},
                   "operator-token"));
  EXPECT_EQ(command["action"], "backup.pg_dump");
  EXPECT_EQ(command["agent_id"], "pg-1");
  EXPECT_EQ(command["params"], json({{"dbname", "app"}}));
  EXPECT_EQ(command["origin"], "backup:postgres/nightly");
  EXPECT_EQ(command["created_by"], "o") << "the caller";
  EXPECT_TRUE(call("GET", "/v1/backups").body.find("\"backups\":[]") != std::string::npos)
      << "nothing cataloged before the result";

  agentAnswers(command["id"], "succeeded",
               {{"artifact_path", "/backups/app-1.dump"},
                {"manifest_path", "/backups/app-1.dump.json"},
                {"sha256", std::string(64, 'c')},
                {"bytes", 8192}});
  ApiResponse list = call("GET", "/v1/backups");
  ASSERT_EQ(list.status, 200) << list.body;
  const json backups = json::parse(list.body)["backups"];
  ASSERT_EQ(backups.size(), 1u) << list.body;
  EXPECT_EQ(backups[0]["command_id"], command["id"]);
  EXPECT_EQ(backups[0]["policy"], "nightly");
  EXPECT_EQ(backups[0]["size_bytes"], 8192);
  EXPECT_EQ(backups[0]["status"], "available");

  // Without a policy: the service's first pg_dump one; created_by is anonymous without a token.
  const json by_default = created(call("POST", "/v1/backups", R"({"service": "postgres"})"));
  EXPECT_EQ(by_default["origin"], "backup:postgres/nightly");
  EXPECT_EQ(by_default["created_by"], "anonymous");
  const json snapshot =
      created(call("POST", "/v1/backups", R"({"service": "postgres", "policy": "volume"})"));
  EXPECT_EQ(snapshot["action"], "snapshot.create");
}

TEST_F(BackupsHandlerTest, BackupNowRefusalsMapTo400And404) {
  for (const char* body : {"", "not json", "[1]"}) {
    expectProblem(call("POST", "/v1/backups", body), 400, "JSON object");
  }
  expectBadField("/v1/backups", R"({})", "service", "required");
  expectBadField("/v1/backups", R"({"service": 5})", "service", "must be a string");
  expectBadField("/v1/backups", R"({"service": ""})", "service", "must not be empty");
  expectBadField("/v1/backups", R"({"service": "postgres", "policy": ["nightly"]})", "policy",
                 "must be a string");
  expectBadField("/v1/backups", R"({"service": "postgres", "polcy": "nightly"})", "polcy",
                 "unknown field 'polcy' (known: service, policy)");
  expectProblem(call("POST", "/v1/backups", R"({"service": "postgres", "policy": "hourly"})"), 404,
                "no backup policy 'hourly'");
  expectProblem(call("POST", "/v1/backups", R"({"service": "mysql"})"), 404, "mysql");
  EXPECT_EQ(book_.size(), 0u) << "nothing refused was stored";
}

TEST_F(BackupsHandlerTest, ListIsNewestFirstAndFiltersByServiceStatusPolicyAndLimit) {
  const BackupEntry old = addEntry(3000);
  const BackupEntry corrupt = addEntry(2000, "nightly", BackupStatus::kCorrupt);
  const BackupEntry manual = addEntry(1000, "");
  EXPECT_EQ(listIds({}), (std::vector<std::string>{manual.id, corrupt.id, old.id}));
  EXPECT_EQ(listIds({{"status", "corrupt"}}), (std::vector<std::string>{corrupt.id}));
  EXPECT_EQ(listIds({{"policy", "nightly"}}), (std::vector<std::string>{corrupt.id, old.id}));
  EXPECT_EQ(listIds({{"service", "redis"}}), std::vector<std::string>{});
  EXPECT_EQ(listIds({{"limit", "1"}}), (std::vector<std::string>{manual.id}));
  EXPECT_EQ(listIds({{"status", ""}, {"policy", ""}}).size(), 3u) << "empty means any";
  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"status", "gone"}, {"limit", "0"}, {"limit", "1001"}, {"limit", "ten"}}) {
    ApiResponse res = call("GET", "/v1/backups", "", {{name, value}});
    EXPECT_EQ(res.status, 400) << name << "=" << value;
    EXPECT_EQ(json::parse(res.body)["parameter"], name) << res.body;
  }
}

TEST_F(BackupsHandlerTest, GetOneOrNotFound) {
  const BackupEntry entry = addEntry(1000);
  ApiResponse res = call("GET", "/v1/backups/" + entry.id, "", {}, "viewer-token");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(json::parse(res.body), backups::backupToJson(entry));
  expectProblem(call("GET", "/v1/backups/bk-nope"), 404, "no backup 'bk-nope'");
}

TEST_F(BackupsHandlerTest, StatusIsRoutedBeforeTheIdAndShowsRpoAndTheLastDrill) {
  ApiResponse empty = call("GET", "/v1/backups/status", "", {}, "viewer-token");
  ASSERT_EQ(empty.status, 200) << empty.body;
  const json none = json::parse(empty.body)["services"];
  ASSERT_EQ(none.size(), 1u) << "the service with a policy";
  EXPECT_EQ(none[0]["service"], "postgres");
  EXPECT_EQ(none[0]["has_policy"], true);
  EXPECT_EQ(none[0]["available"], 0);
  EXPECT_EQ(none[0]["rpo"]["has_backup"], false);
  EXPECT_TRUE(none[0]["rpo"]["newest_id"].is_null());
  EXPECT_TRUE(none[0]["rpo"]["newest_point"].is_null());
  EXPECT_EQ(none[0]["rpo"]["ok"], false);
  EXPECT_NE(none[0]["rpo"]["reason"].get<std::string>().find("no backup yet"), std::string::npos);
  EXPECT_TRUE(none[0]["last_drill"].is_null());
  EXPECT_EQ(none[0]["rto_target_ms"], 3'600'000);

  const BackupEntry entry = addEntry(60'000);
  const json drill = created(call("POST", "/v1/backups/drills", R"({"service": "postgres"})"));
  agentAnswers(drill["id"], "succeeded", {{"tables", {{"public.orders", 3}}}});
  const json s = json::parse(call("GET", "/v1/backups/status").body)["services"][0];
  EXPECT_EQ(s["available"], 1);
  EXPECT_EQ(s["rpo"]["has_backup"], true);
  EXPECT_EQ(s["rpo"]["newest_id"], entry.id);
  EXPECT_EQ(s["rpo"]["newest_point"], formatRfc3339(fromUnixMillis(entry.started_ms)));
  EXPECT_EQ(s["rpo"]["age_ms"], kT0 - entry.started_ms);
  EXPECT_EQ(s["rpo"]["rpo_target_ms"], 86'400'000);
  EXPECT_EQ(s["rpo"]["ok"], true);
  ASSERT_TRUE(s["last_drill"].is_object()) << s.dump();
  EXPECT_EQ(s["last_drill"]["backup_id"], entry.id);
  EXPECT_EQ(s["last_drill"]["ok"], true);
  EXPECT_EQ(s["last_drill"]["rto_met"], true);
  EXPECT_EQ(s["last_drill"]["restore_ms"], 12);
  EXPECT_EQ(s["last_drill"]["rto_target_ms"], 3'600'000);
  EXPECT_EQ(s["last_drill"]["command_id"], drill["id"]);
  EXPECT_TRUE(s["last_drill"]["ts"].is_string());
  EXPECT_NE(s["last_drill"]["detail"].get<std::string>().find("restored 1 table "),
            std::string::npos);
}

TEST_F(BackupsHandlerTest, RestoreCreatesAPgRestoreOnTheAgentThatHoldsIt) {
  const BackupEntry entry = addEntry(1000);
  const json command =
      created(call("POST", "/v1/backups/" + entry.id + "/restore",
                   R"({"target_db": "app_copy", "swap": true})", {}, "operator-token"));
  EXPECT_EQ(command["action"], "restore.pg_restore");
  EXPECT_EQ(command["agent_id"], "pg-1");
  EXPECT_EQ(command["origin"], "restore:" + entry.id);
  EXPECT_EQ(command["created_by"], "o");
  EXPECT_EQ(command["params"], json({{"artifact", entry.location},
                                     {"sha256", entry.sha256},
                                     {"target_db", "app_copy"},
                                     {"swap", true}}));
  const json plain =
      created(call("POST", "/v1/backups/" + entry.id + "/restore", R"({"target_db": "app_copy"})"));
  EXPECT_EQ(plain["params"]["swap"], false) << "swap is off unless asked for";
}

TEST_F(BackupsHandlerTest, RestoreRefusalsMapTo400404And409) {
  const BackupEntry corrupt = addEntry(4000, "nightly", BackupStatus::kCorrupt);
  const BackupEntry snapshot =
      addEntry(3000, "volume", BackupStatus::kAvailable, BackupKind::kSnapshot);
  const BackupEntry on_lost =
      addEntry(2000, "nightly", BackupStatus::kAvailable, BackupKind::kPgDump, "pg-9");
  const BackupEntry good = addEntry(1000);
  const std::string path = "/v1/backups/" + good.id + "/restore";
  expectProblem(call("POST", path, ""), 400, "JSON object");
  expectBadField(path, R"({})", "target_db", "required");
  expectBadField(path, R"({"target_db": 1})", "target_db", "must be a string");
  expectBadField(path, R"({"target_db": "x", "swap": "yes"})", "swap", "true or false");
  expectBadField(path, R"({"target_db": "x", "force": true})", "force", "known: target_db, swap");
  const std::string body = R"({"target_db": "app_copy"})";
  expectProblem(call("POST", "/v1/backups/bk-nope/restore", body), 404, "no backup 'bk-nope'");
  expectProblem(call("POST", "/v1/backups/" + corrupt.id + "/restore", body), 409, "is corrupt");
  expectProblem(call("POST", "/v1/backups/" + snapshot.id + "/restore", body), 400,
                "volume snapshot");
  expectProblem(call("POST", "/v1/backups/" + on_lost.id + "/restore", body), 409,
                "would never be delivered");
  EXPECT_EQ(book_.size(), 0u);
}

TEST_F(BackupsHandlerTest, VerifyCreatesACommandAndAFailedCheckMarksTheBackupCorrupt) {
  const BackupEntry entry = addEntry(1000);
  const std::string path = "/v1/backups/" + entry.id + "/verify";
  const json ok = created(call("POST", path, ""));
  EXPECT_EQ(ok["action"], "backup.verify");
  EXPECT_EQ(ok["params"],
            json({{"artifact", entry.location}, {"sha256", entry.sha256}, {"kind", "pg_dump"}}));
  agentAnswers(ok["id"], "succeeded", json::object());
  const json bad = created(call("POST", path, "{}"));
  agentAnswers(bad["id"], "failed", json::object(), "checksum_mismatch");
  const json after = json::parse(call("GET", "/v1/backups/" + entry.id).body);
  EXPECT_EQ(after["status"], "corrupt") << after.dump();
  ASSERT_EQ(after["verifications"].size(), 2u);
  EXPECT_EQ(after["verifications"][0]["ok"], true);
  EXPECT_EQ(after["verifications"][1]["ok"], false);
  expectProblem(call("POST", "/v1/backups/" + entry.id + "/restore", R"({"target_db": "x"})"), 409,
                "is corrupt");

  const json problem = expectProblem(call("POST", path, R"({"deep": true})"), 400, "no fields");
  EXPECT_EQ(problem["field"], "deep");
  expectProblem(call("POST", path, "[]"), 400, "empty or {}");
  expectProblem(call("POST", "/v1/backups/bk-nope/verify"), 404, "no backup 'bk-nope'");
  const BackupEntry pruned = addEntry(500, "nightly", BackupStatus::kPruned);
  expectProblem(call("POST", "/v1/backups/" + pruned.id + "/verify"), 409, "no artifact");
}

TEST_F(BackupsHandlerTest, PinDefaultsToTrueAndUnpinsWithFalse) {
  const BackupEntry entry = addEntry(1000);
  const std::string path = "/v1/backups/" + entry.id + "/pin";
  ApiResponse pinned = call("POST", path, "", {}, "operator-token");
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(json::parse(pinned.body)["pinned"], true);
  EXPECT_TRUE(coordinator_.catalog().get(entry.id)->pinned) << "stored";
  ApiResponse unpinned = call("POST", path, R"({"pinned": false})");
  ASSERT_EQ(unpinned.status, 200) << unpinned.body;
  EXPECT_EQ(json::parse(unpinned.body)["pinned"], false);
  EXPECT_EQ(json::parse(call("POST", path, R"({"pinned": true})").body)["pinned"], true);

  expectBadField(path, R"({"pinned": 1})", "pinned", "true or false");
  expectBadField(path, R"({"pin": true})", "pin", "known: pinned");
  expectProblem(call("POST", path, "yes"), 400, "JSON object");
  expectProblem(call("POST", "/v1/backups/bk-nope/pin"), 404, "no backup 'bk-nope'");
}

TEST_F(BackupsHandlerTest, DrillRestoresTheNewestGoodBackupOfTheDrillPolicy) {
  expectProblem(call("POST", "/v1/backups/drills", R"({"service": "postgres"})"), 409,
                "no available pg_dump backup");
  addEntry(3000);
  const BackupEntry newest = addEntry(2000);
  addEntry(1000, "");  // newer, but manual: not of the drill's policy
  const json drill = created(
      call("POST", "/v1/backups/drills", R"({"service": "postgres"})", {}, "operator-token"));
  EXPECT_EQ(drill["action"], "restore.pg_restore");
  EXPECT_EQ(drill["origin"], "drill:postgres/" + newest.id);
  EXPECT_EQ(drill["params"]["target_db"], "noa_drill");
  EXPECT_EQ(drill["params"]["scratch"], true);
  EXPECT_EQ(drill["created_by"], "o");

  expectBadField("/v1/backups/drills", R"({})", "service", "required");
  expectBadField("/v1/backups/drills", R"({"service": "postgres", "policy": "nightly"})", "policy",
                 "known: service");
  expectProblem(call("POST", "/v1/backups/drills", R"({"service": "mysql"})"), 409,
                "no available pg_dump backup");
}

TEST_F(BackupsHandlerTest, TheRouteTableGivesChangesToOperatorsAndReadsToViewers) {
  const BackupEntry entry = addEntry(1000);
  const std::string one = "/v1/backups/" + entry.id;
  for (const std::string& path : std::vector<std::string>{
           "/v1/backups", "/v1/backups/drills", one + "/restore", one + "/verify", one + "/pin"}) {
    EXPECT_EQ(call("POST", path, "{}", {}, "viewer-token").status, 403) << path;
  }
  for (const std::string& path :
       std::vector<std::string>{"/v1/backups", "/v1/backups/status", one}) {
    EXPECT_EQ(call("GET", path, "", {}, "viewer-token").status, 200) << path;
  }
  EXPECT_EQ(call("GET", "/v1/backups/drills").status, 404) << "drills is not a backup id";
  EXPECT_EQ(book_.size(), 0u);
}

TEST(BackupsHandler, WithoutBackupsEveryRouteAnswers503) {
  prometheus::Registry registry;
  noa::testing::FakeClock clock;
  noa::testing::FakeStateView bare(registry);
  bare.enableCommands(clock);  // a command channel alone is not enough
  const ApiContext context{bare, clock};
  const std::string id = backups::formatBackupId(kT0, 1);
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/v1/backups"},
                                                        {"GET", "/v1/backups/status"},
                                                        {"GET", "/v1/backups/" + id},
                                                        {"POST", "/v1/backups"},
                                                        {"POST", "/v1/backups/" + id + "/restore"},
                                                        {"POST", "/v1/backups/" + id + "/verify"},
                                                        {"POST", "/v1/backups/" + id + "/pin"},
                                                        {"POST", "/v1/backups/drills"}}) {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.body = R"({"service": "postgres"})";
    ApiResponse res = dispatch(context, request);
    EXPECT_EQ(res.status, 503) << method << " " << path;
    EXPECT_NE(res.body.find("backups are not available"), std::string::npos) << res.body;
  }
}

}  // namespace
}  // namespace noa::controller::api
