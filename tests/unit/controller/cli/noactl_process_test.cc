// The noactl binary itself (main wiring, stdout/stderr, exit codes) against an in-process
// ApiServer. Labelled integration: it starts processes.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "controller/api/api_server.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;

class NoactlProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.setAgents({makeAgent("redis-1", "redis", "redis", Liveness::kAlive)});
    controller::ApiOptions options;
    options.port = 0;
    server_ = std::make_unique<controller::ApiServer>(state_, registry_, options);
    ASSERT_OK(server_->start());
  }

  // Runs noactl with `args`; returns the exit code and fills `output` (stdout + stderr).
  int noactl(std::vector<std::string> args, std::string& output,
             std::vector<std::string> env = {}) {
    args.insert(args.begin(), NOA_CTL_BIN);
    const std::string log = dir_.path() + "/noactl-" + std::to_string(++runs_) + ".out";
    env.push_back("HOME=" + dir_.path());  // not the developer's ~/.config/noa/noactl.yaml
    auto child = ChildProcess::start(args, log, env);
    EXPECT_TRUE(child.ok()) << child.status().toString();
    if (!child.ok()) return -1;
    const int code = (*child)->wait(10s);
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    output = text.str();
    return code;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  TempDir dir_;
  int runs_ = 0;
  prometheus::Registry registry_;
  FakeStateView state_{registry_};
  std::unique_ptr<controller::ApiServer> server_;
};

TEST_F(NoactlProcessTest, JsonAgentsPrintsOnlyTheServersJson) {
  std::string out;
  ASSERT_EQ(noactl({"--controller", url(), "--output", "json", "agents"}, out), 0) << out;
  auto listed = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(listed.is_discarded()) << out;
  ASSERT_EQ(listed["agents"].size(), 1u);
  EXPECT_EQ(listed["agents"][0]["id"], "redis-1");
}

TEST_F(NoactlProcessTest, ExitCodes) {
  std::string out;
  EXPECT_EQ(noactl({"--controller", url(), "agent", "nope"}, out), 3) << out;
  EXPECT_NE(out.find("noactl: Not Found"), std::string::npos) << out;
  EXPECT_EQ(noactl({"--controller", url(), "frobnicate"}, out), 1) << out;
  server_->stop();
  EXPECT_EQ(noactl({"--controller", url(), "status"}, out), 2) << out;
  EXPECT_NE(out.find(url()), std::string::npos) << out;
  EXPECT_EQ(noactl({"--help"}, out), 0) << out;
  EXPECT_NE(out.find("history SERVICE"), std::string::npos) << out;
}

TEST(NoactlProcess, TokenFromTheEnvironmentReachesAnAuthenticatingController) {
  TempDir dir;
  prometheus::Registry registry;
  FakeStateView state(registry);
  state.setAgents({makeAgent("redis-1", "redis", "redis", Liveness::kAlive)});
  controller::ApiOptions options;
  options.port = 0;
  options.authenticator = makeTestAuthenticator();
  controller::ApiServer server(state, registry, options);
  ASSERT_OK(server.start());
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port());
  auto runNoactl = [&](std::vector<std::string> env, std::string& output) {
    env.push_back("HOME=" + dir.path());
    const std::string log = dir.path() + "/noactl-" + std::to_string(env.size()) + ".out";
    auto child = ChildProcess::start({NOA_CTL_BIN, "--controller", url, "agents"}, log, env);
    EXPECT_TRUE(child.ok());
    const int code = child.ok() ? (*child)->wait(10s) : -1;
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    output = text.str();
    return code;
  };
  std::string out;
  EXPECT_EQ(runNoactl({}, out), 3) << out;
  EXPECT_NE(out.find("not authorized (401)"), std::string::npos) << out;
  EXPECT_EQ(runNoactl({"NOA_TOKEN=viewer-token", "X=1"}, out), 0) << out;
  EXPECT_NE(out.find("redis-1"), std::string::npos) << out;
}

}  // namespace
}  // namespace noa::testing
