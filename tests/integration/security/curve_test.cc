// The agent channel's CURVE security end to end: a real noa-controller (CURVE on, allowlist,
// REST tokens) and real noa-agent processes beside a real redis-server. An unenrolled key stays
// pending and never registers until an admin accepts it; an allowlist line appended at runtime
// admits an agent; an agent presenting another agent's id is refused and counted; revoking one
// agent ends only its session. Every process is killed by PID at the end, also on failure.

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>

#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class CurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zmq_port_ = freePort();
    api_port_ = freePort();
    redis_port_ = freePort();
    auto creds = TestCredentials::create(dir_.path() + "/credentials");
    ASSERT_TRUE(creds.ok()) << creds.status().toString();
    creds_ = std::move(creds).value();
    auto redis =
        ChildProcess::start({"redis-server", "--port", std::to_string(redis_port_), "--bind",
                             "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir_.path()},
                            dir_.path() + "/redis.log");
    ASSERT_TRUE(redis.ok()) << redis.status().toString();
    redis_ = std::move(redis).value();
    std::vector<std::string> argv = {NOA_CONTROLLER_BIN,
                                     "--controller-id",
                                     "ctl-curve",
                                     "--data-dir",
                                     dir_.path() + "/data",
                                     "--listen",
                                     "tcp://127.0.0.1:" + std::to_string(zmq_port_),
                                     "--api-listen",
                                     "127.0.0.1:" + std::to_string(api_port_),
                                     "--report-interval",
                                     "200ms",
                                     "--log-level",
                                     "debug"};
    for (auto& arg : creds_.controllerArgs()) argv.push_back(std::move(arg));
    auto c = ChildProcess::start(argv, dir_.path() + "/controller.log");
    ASSERT_TRUE(c.ok()) << c.status().toString();
    controller_ = std::move(c).value();
    ASSERT_TRUE(waitUntil([&] { return httpGet(api_port_, "/v1/health").ok(); }, 15s))
        << controller_->logTail();
  }

  void TearDown() override {
    if (!HasFailure()) return;
    if (controller_) std::cerr << "--- controller log\n" << controller_->logTail(4000) << "\n";
    for (auto& [name, agent] : agents_) {
      std::cerr << "--- agent " << name << " log\n" << agent->logTail(1500) << "\n";
    }
  }

  // Starts an agent named `name` claiming `agent_id`, with the key pair in `state_dir`.
  void startAgent(const std::string& name, const std::string& agent_id,
                  const std::vector<std::string>& security_args) {
    std::vector<std::string> argv = {NOA_AGENT_BIN,
                                     "--agent-id",
                                     agent_id,
                                     "--service",
                                     "redis",
                                     "--kind",
                                     "redis",
                                     "--service-port",
                                     std::to_string(redis_port_),
                                     "--controller",
                                     "tcp://127.0.0.1:" + std::to_string(zmq_port_),
                                     "--report-interval",
                                     "200ms",
                                     "--log-level",
                                     "debug"};
    for (const auto& arg : security_args) argv.push_back(arg);
    auto a = ChildProcess::start(argv, dir_.path() + "/agent-" + name + ".log");
    ASSERT_TRUE(a.ok()) << a.status().toString();
    agents_[name] = std::move(a).value();
  }

  // Enrolled through the allowlist (TestCredentials appends the agent's key).
  void startEnrolledAgent(const std::string& agent_id) {
    auto args = creds_.agentArgs(agent_id);
    ASSERT_TRUE(args.ok()) << args.status().toString();
    startAgent(agent_id, agent_id, *args);
  }

  // Not in the allowlist: its own key pair, made by the agent in its own state dir.
  void startUnenrolledAgent(const std::string& agent_id) {
    startAgent(agent_id, agent_id,
               {"--state-dir", dir_.path() + "/unenrolled/" + agent_id,
                "--controller-public-key-file", creds_.dir() + "/controller-keys/controller.pub"});
  }

  std::map<std::string, json> agents() {
    std::map<std::string, json> out;
    auto body = httpGetJson(api_port_, "/v1/agents", creds_.token("viewer"));
    if (!body.ok() || !body->contains("agents")) return out;
    for (const auto& a : (*body)["agents"]) out[a["id"].get<std::string>()] = a;
    return out;
  }

  bool alive(const std::string& id) {
    auto all = agents();
    return all.count(id) && all[id]["state"] == "alive";
  }

  std::vector<json> keys() {
    auto body = httpGetJson(api_port_, "/v1/keys", creds_.token("viewer"));
    if (!body.ok() || !body->contains("keys")) return {};
    return (*body)["keys"].get<std::vector<json>>();
  }

  std::optional<json> keyClaimedBy(const std::string& agent_id) {
    for (const auto& k : keys()) {
      if ((k["claimed"].is_object() && k["claimed"]["agent_id"] == agent_id) ||
          k["agent_id"] == agent_id) {
        return k;
      }
    }
    return std::nullopt;
  }

  httplib::Result post(const std::string& path, const std::string& role,
                       const std::string& body = "") {
    httplib::Client client("127.0.0.1", api_port_);
    client.set_connection_timeout(5s);
    client.set_read_timeout(10s);
    httplib::Headers headers = {{"Authorization", "Bearer " + creds_.token(role)}};
    return client.Post(path, headers, body, "application/json");
  }

  double rejected(const std::string& reason) {
    auto metrics = httpGet(api_port_, "/metrics");
    if (!metrics.ok()) return -1;
    const std::string prefix = "noa_ingest_rejected_total{reason=\"" + reason + "\"} ";
    const size_t at = metrics->body.find(prefix);
    if (at == std::string::npos) return 0;
    return std::stod(metrics->body.substr(at + prefix.size()));
  }

  TempDir dir_;
  TestCredentials creds_;
  int zmq_port_ = 0;
  int api_port_ = 0;
  int redis_port_ = 0;
  std::unique_ptr<ChildProcess> redis_;
  std::unique_ptr<ChildProcess> controller_;
  std::map<std::string, std::unique_ptr<ChildProcess>> agents_;
};

TEST_F(CurveTest, UnenrolledKeyStaysPendingUntilAnAdminAcceptsIt) {
  startUnenrolledAgent("rogue");
  std::optional<json> key;
  ASSERT_TRUE(waitUntil(
      [&] {
        key = keyClaimedBy("rogue");
        return key.has_value();
      },
      15s));
  EXPECT_EQ((*key)["state"], "pending");
  const std::string key_id = (*key)["key_id"].get<std::string>();
  // It never registers and nothing it sends is stored while pending.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(agents().count("rogue"), 0u);
  EXPECT_GT(rejected("key_pending"), 0);

  // An operator may not accept keys; an admin may.
  auto denied = post("/v1/keys/" + key_id + "/accept", "operator");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403) << denied->body;
  auto accepted = post("/v1/keys/" + key_id + "/accept", "admin");
  ASSERT_TRUE(accepted);
  ASSERT_EQ(accepted->status, 200) << accepted->body;
  EXPECT_EQ(json::parse(accepted->body)["state"], "accepted");
  EXPECT_TRUE(waitUntil([&] { return alive("rogue"); }, 20s));

  // The accept is in the audit log with who did it.
  auto audit = httpGetJson(api_port_, "/v1/audit", creds_.token("admin"));
  ASSERT_TRUE(audit.ok());
  bool found = false;
  for (const auto& e : (*audit)["entries"]) {
    if (e["path"] == "/v1/keys/" + key_id + "/accept" && e["status"] == 200) {
      found = e["actor"] == "test-admin";
    }
  }
  EXPECT_TRUE(found) << audit->dump();
}

TEST_F(CurveTest, AllowlistLineAppendedAtRuntimeAdmitsTheAgent) {
  startEnrolledAgent("late-1");
  EXPECT_TRUE(waitUntil([&] { return alive("late-1"); }, 15s));
  auto key = keyClaimedBy("late-1");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ((*key)["state"], "accepted");
  EXPECT_EQ((*key)["source"], "allowlist");
}

TEST_F(CurveTest, AgentPresentingAnotherAgentsIdIsRefusedAndCounted) {
  startEnrolledAgent("honest");
  ASSERT_TRUE(waitUntil([&] { return alive("honest"); }, 15s));
  // The key enrolled for "mallory", but the process claims to be "victim".
  auto mallory = creds_.agentArgs("mallory");
  ASSERT_TRUE(mallory.ok());
  startAgent("mallory-as-victim", "victim", *mallory);
  ASSERT_TRUE(waitUntil([&] { return rejected("identity_mismatch") > 0; }, 15s));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(agents().count("victim"), 0u);
  EXPECT_EQ(agents().count("mallory"), 0u);
  EXPECT_TRUE(alive("honest"));  // others are not disturbed
}

TEST_F(CurveTest, RevokingOneAgentEndsOnlyItsSession) {
  startEnrolledAgent("keep");
  startEnrolledAgent("drop");
  ASSERT_TRUE(waitUntil([&] { return alive("keep") && alive("drop"); }, 20s));
  auto key = keyClaimedBy("drop");
  ASSERT_TRUE(key.has_value());
  auto revoked = post("/v1/keys/" + (*key)["key_id"].get<std::string>() + "/revoke", "admin");
  ASSERT_TRUE(revoked);
  ASSERT_EQ(revoked->status, 200) << revoked->body;
  EXPECT_EQ(json::parse(revoked->body)["state"], "revoked");
  // "drop" stops counting as alive (its reports are refused); "keep" keeps reporting.
  ASSERT_TRUE(waitUntil([&] { return agents()["drop"]["state"] == "lost"; }, 15s));
  const uint64_t seq = agents()["keep"]["last_seq"].get<uint64_t>();
  EXPECT_TRUE(waitUntil([&] { return agents()["keep"]["last_seq"].get<uint64_t>() > seq; }, 5s));
  EXPECT_TRUE(alive("keep"));
  // The agent was told why (a bye); when it reconnects, the ZAP handler refuses its key.
  EXPECT_NE(agents_["drop"]->logTail().find("revoked"), std::string::npos);
}

}  // namespace
}  // namespace noa::testing
