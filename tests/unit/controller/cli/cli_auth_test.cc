// noactl and security: where the bearer token comes from (never argv), 401/403 messages and
// exit codes, the config file, and the admin commands (keys, audit) against a small local HTTP
// server that plays the controller's /v1/keys and /v1/audit routes.

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "controller/api/api_server.h"
#include "controller/cli/admin_tables.h"
#include "controller/cli/cli_config.h"
#include "controller/cli/commands.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::cli {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

CliRun runWith(std::vector<std::string> args, const Clock& clock) {
  args.insert(args.begin(), "noactl");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  CliRun r;
  r.code = runCli(static_cast<int>(argv.size()), argv.data(), out, err, clock);
  r.out = out.str();
  r.err = err.str();
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Keeps noactl away from the developer's own ~/.config/noa/noactl.yaml and NOA_* variables.
class CleanEnv {
 public:
  CleanEnv() {
    char path[] = "/tmp/noa-cli-auth-XXXXXX";
    dir_ = mkdtemp(path);
    for (const char* name : {"HOME", "NOA_TOKEN", "NOA_TOKEN_FILE", "NOA_CONFIG", "NOA_CA_FILE",
                             "NOA_CONTROLLER_URL", "NOA_CONTROLLER"}) {
      if (const char* v = std::getenv(name)) saved_.emplace_back(name, v);
      unsetenv(name);
    }
    setenv("HOME", dir_.c_str(), 1);
  }
  ~CleanEnv() {
    for (const char* name : {"HOME", "NOA_TOKEN", "NOA_TOKEN_FILE", "NOA_CONFIG"}) unsetenv(name);
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
    std::filesystem::remove_all(dir_);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

class CliAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.setAgents(
        {noa::testing::makeAgent("redis-1", "redis", "redis", controller::Liveness::kAlive)});
    controller::ApiOptions options;
    options.port = 0;
    options.authenticator = noa::testing::makeTestAuthenticator();
    server_ = std::make_unique<controller::ApiServer>(state_, registry_, options, clock_);
    ASSERT_OK(server_->start());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override { server_->stop(); }

  CleanEnv env_;
  prometheus::Registry registry_;
  noa::testing::FakeStateView state_{registry_};
  noa::testing::FakeClock clock_;
  std::unique_ptr<controller::ApiServer> server_;
  std::string url_;
};

TEST_F(CliAuthTest, WithoutATokenExits3AndSaysHowToSetOne) {
  CliRun r = runWith({"--controller", url_, "agents"}, clock_);
  EXPECT_EQ(r.code, kExitHttpError) << r.err;
  EXPECT_TRUE(contains(r.err, "noactl: not authorized (401): a valid bearer token is required"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "set NOA_TOKEN or --token-file")) << r.err;
}

TEST_F(CliAuthTest, TokenFromEnvironmentTokenFileOrConfigFile) {
  setenv("NOA_TOKEN", "viewer-token", 1);
  CliRun r = runWith({"--controller", url_, "agents"}, clock_);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "redis-1"));
  unsetenv("NOA_TOKEN");

  const std::string token_file = env_.write("viewer.token", "  viewer-token\n");
  r = runWith({"--controller", url_, "--token-file", token_file, "agents"}, clock_);
  EXPECT_EQ(r.code, kExitOk) << r.err;

  // The default config file, with a token file relative to it.
  env_.write(".config/noa/noactl.yaml", "controller: " + url_ + "\ntoken_file: my.token\n");
  env_.write(".config/noa/my.token", "viewer-token\n");
  r = runWith({"agents"}, clock_);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "redis-1"));

  // --token-file wins over NOA_TOKEN, which wins over the config file.
  setenv("NOA_TOKEN", "wrong", 1);
  r = runWith({"--token-file", token_file, "agents"}, clock_);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  r = runWith({"agents"}, clock_);
  EXPECT_EQ(r.code, kExitHttpError);
  unsetenv("NOA_TOKEN");

  const std::string other = env_.write("other.yaml", "controller: http://127.0.0.1:1\n");
  r = runWith({"--config", other, "--check-config"}, clock_);
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "controller = http://127.0.0.1:1")) << r.out;
  EXPECT_TRUE(contains(r.out, "token = none")) << r.out;
}

TEST_F(CliAuthTest, CheckConfigShowsWhereTheTokenComesFromNeverTheToken) {
  setenv("NOA_TOKEN", "viewer-token", 1);
  CliRun r = runWith({"--controller", url_, "--check-config"}, clock_);
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_TRUE(contains(r.out, "token = set (from env NOA_TOKEN)")) << r.out;
  EXPECT_FALSE(contains(r.out + r.err, "viewer-token"));
  unsetenv("NOA_TOKEN");
}

TEST_F(CliAuthTest, BadConfigFilesAndTokenFilesAreUsageErrors) {
  EXPECT_EQ(runWith({"--config", env_.dir() + "/missing.yaml", "agents"}, clock_).code, kExitUsage);
  const std::string typo = env_.write("typo.yaml", "controler: http://x\n");
  CliRun r = runWith({"--config", typo, "agents"}, clock_);
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_TRUE(contains(r.err, "unknown key 'controler'")) << r.err;
  EXPECT_EQ(runWith({"--token-file", env_.dir() + "/none", "agents"}, clock_).code, kExitUsage);
  EXPECT_EQ(runWith({"--token-file", env_.write("empty", "\n"), "agents"}, clock_).code,
            kExitUsage);
  r = runWith({"--token", "x", "agents"}, clock_);
  EXPECT_EQ(r.code, kExitUsage) << "--token is deliberately not a flag";
}

// Plays GET /v1/keys, POST /v1/keys/{id}/accept|reject|revoke and GET /v1/audit.
class FakeAdminController {
 public:
  FakeAdminController() {
    server_.Get("/v1/keys", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req, res)) return;
      res.set_content(json({{"keys", json::array({key("k1", "pending")})}}).dump(),
                      "application/json");
    });
    server_.Post(R"(/v1/keys/([^/]+)/(accept|reject|revoke))",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   if (!authorized(req, res)) return;
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     calls_.push_back(req.method + " " + req.path + " " + req.body);
                   }
                   const std::string state = req.matches[2] == "accept"   ? "accepted"
                                             : req.matches[2] == "reject" ? "rejected"
                                                                          : "revoked";
                   json k = key(req.matches[1], state);
                   if (!req.body.empty()) k["agent_id"] = json::parse(req.body)["agent_id"];
                   res.set_content(k.dump(), "application/json");
                 });
    server_.Get("/v1/audit", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req, res)) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        calls_.push_back("GET /v1/audit since=" + req.get_param_value("since") + " limit=" +
                         req.get_param_value("limit") + " actor=" + req.get_param_value("actor"));
      }
      res.set_content(json({{"entries", json::array({{{"ts", "2026-11-25T10:00:00.000Z"},
                                                      {"actor", "alice"},
                                                      {"role", "admin"},
                                                      {"method", "POST"},
                                                      {"path", "/v1/keys/k1/accept"},
                                                      {"status", 200},
                                                      {"detail", ""},
                                                      {"remote", "127.0.0.1"}}})}})
                          .dump(),
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeAdminController() {
    // stop() does nothing before the listen loop runs.
    while (!server_.is_running()) std::this_thread::yield();
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  static json key(const std::string& id, const std::string& state) {
    return {{"key_id", id},
            {"public_key", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"},
            {"state", state},
            {"agent_id", nullptr},
            {"claimed", {{"agent_id", "pg-1"}, {"service", "postgres"}, {"host", "db1"}}},
            {"address", "10.0.0.5"},
            {"first_seen", "2026-11-25T09:59:00.000Z"},
            {"last_seen", "2026-11-25T10:00:00.000Z"},
            {"attempts", 3},
            {"source", "hello"},
            {"changed_at", nullptr},
            {"changed_by", nullptr}};
  }
  static bool authorized(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == "Bearer admin-token") return true;
    res.status = 403;
    res.set_content(R"({"type":"about:blank","title":"Forbidden","status":403,)"
                    R"("detail":"GET /v1/keys needs the admin role"})",
                    "application/problem+json");
    return false;
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> calls_;
};

TEST(CliAdmin, KeysListAcceptRejectRevokeAndAudit) {
  CleanEnv env;
  noa::testing::FakeClock clock;
  FakeAdminController controller;
  setenv("NOA_TOKEN", "admin-token", 1);
  const std::string url = controller.url();

  CliRun r = runWith({"--controller", url, "keys", "list"}, clock);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(
      contains(r.out, "KEY-ID  STATE    AGENT  CLAIMED            ADDRESS   LAST-SEEN  ATTEMPTS\n"))
      << r.out;
  EXPECT_TRUE(
      contains(r.out, "k1      pending  -      pg-1 postgres@db1  10.0.0.5  0s ago     3\n"))
      << r.out;

  r = runWith({"--controller", url, "keys", "accept", "k1", "--agent", "pg-9"}, clock);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "accepted")) << r.out;
  EXPECT_TRUE(contains(r.out, "pg-9")) << r.out;
  ASSERT_EQ(runWith({"--controller", url, "keys", "reject", "k 2"}, clock).code, kExitOk);
  ASSERT_EQ(runWith({"--controller", url, "keys", "revoke", "k3", "-o", "json"}, clock).code,
            kExitOk);
  ASSERT_EQ(runWith({"--controller", url, "keys", "accept", "k4"}, clock).code, kExitOk);

  r = runWith({"--controller", url, "audit", "--since", "2026-11-25T00:00:00Z", "--limit", "5",
               "--actor", "alice"},
              clock);
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(contains(r.out, "TIME                      ACTOR  ROLE   METHOD  PATH")) << r.out;
  EXPECT_TRUE(contains(r.out, "alice  admin  POST    /v1/keys/k1/accept  200")) << r.out;

  const auto calls = controller.calls();
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0], "POST /v1/keys/k1/accept {\"agent_id\":\"pg-9\"}");
  EXPECT_EQ(calls[1], "POST /v1/keys/k 2/reject ");
  EXPECT_EQ(calls[2], "POST /v1/keys/k3/revoke ");
  EXPECT_EQ(calls[3], "POST /v1/keys/k4/accept ");
  EXPECT_EQ(calls[4], "GET /v1/audit since=2026-11-25T00:00:00Z limit=5 actor=alice");

  setenv("NOA_TOKEN", "viewer-token", 1);
  r = runWith({"--controller", url, "keys", "list"}, clock);
  EXPECT_EQ(r.code, kExitHttpError);
  EXPECT_TRUE(contains(r.err, "noactl: forbidden (403): GET /v1/keys needs the admin role"))
      << r.err;

  for (const std::vector<std::string>& bad : {std::vector<std::string>{"keys"},
                                              {"keys", "accept"},
                                              {"keys", "list", "x"},
                                              {"keys", "burn", "k1"},
                                              {"keys", "reject", "k1", "--agent", "a"},
                                              {"audit", "x"}}) {
    std::vector<std::string> args = {"--controller", url};
    args.insert(args.end(), bad.begin(), bad.end());
    EXPECT_EQ(runWith(args, clock).code, kExitUsage) << bad.size();
  }
}

TEST(AdminTables, EmptyAndMalformedBodies) {
  EXPECT_EQ(*renderKeys(json({{"keys", json::array()}}), 0), "no keys\n");
  EXPECT_EQ(*renderAudit(json({{"entries", json::array()}})), "no audit entries\n");
  EXPECT_FALSE(renderKeys(json::array(), 0).ok());
  EXPECT_FALSE(renderKeys(json({{"keys", {1}}}), 0).ok());
  EXPECT_FALSE(renderAudit(json({{"entries", "x"}})).ok());
  auto key = renderKey(json({{"key_id", "k"}, {"state", "revoked"}, {"claimed", nullptr}}), 0);
  ASSERT_OK(key);
  EXPECT_TRUE(contains(*key, "k       revoked  -      -")) << *key;
}

}  // namespace
}  // namespace noa::cli
