// noactl's commands run in-process against a real ApiServer with a fake StateView.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "controller/api/api_server.h"
#include "controller/cli/client.h"
#include "controller/cli/commands.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"

namespace noa::cli {
namespace {

using namespace std::chrono_literals;
using controller::Liveness;
using nlohmann::json;
using noa::testing::makeAgent;

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

// A port nobody listens on: bound (so nobody else takes it), never listened.
class ClosedPort {
 public:
  ClosedPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { close(fd_); }
  int port() const { return port_; }
  // Accepts connections into the backlog but never answers.
  void listenSilently() { EXPECT_EQ(listen(fd_, 4), 0); }

 private:
  int fd_;
  int port_ = 0;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.setAgents({
        makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary"),
        makeAgent("redis-1", "redis", "redis", Liveness::kAlive),
        makeAgent("redis-2", "redis", "redis", Liveness::kLost, "unhealthy"),
    });
    controller::ApiOptions options;
    options.port = 0;
    server_ = std::make_unique<controller::ApiServer>(state_, registry_, options, clock_);
    ASSERT_OK(server_->start());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--controller", url_});
    return runWith(std::move(args), clock_);
  }

  prometheus::Registry registry_;
  noa::testing::FakeStateView state_{registry_};
  noa::testing::FakeClock clock_;
  std::unique_ptr<controller::ApiServer> server_;
  std::string url_;
};

TEST_F(CliTest, AgentsTableListsEveryAgent) {
  CliRun r = run({"agents"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(
      r.out.rfind("ID       SERVICE   KIND      STATE  HEALTH     ROLE     LAST-SEEN  SEQ\n", 0),
      0u)
      << r.out;
  EXPECT_NE(r.out.find("redis-2  redis     redis     lost   unhealthy  -        2s ago     17"),
            std::string::npos)
      << r.out;
}

TEST_F(CliTest, JsonOutputIsTheServersJson) {
  CliRun r = run({"--output", "json", "agents"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  json printed = json::parse(r.out);
  httplib::Client client("127.0.0.1", server_->port());
  auto direct = client.Get("/v1/agents");
  ASSERT_TRUE(direct);
  EXPECT_EQ(printed, json::parse(direct->body));
  EXPECT_NE(r.out.find("\n  \"agents\""), std::string::npos) << "pretty-printed";

  // Global flags may also follow the command.
  CliRun after = run({"agents", "-o", "json", "--service", "postgres"});
  ASSERT_EQ(after.code, kExitOk) << after.err;
  EXPECT_EQ(json::parse(after.out)["agents"].size(), 1u);
}

TEST_F(CliTest, FiltersAndHistoryParametersReachTheServer) {
  CliRun lost = run({"agents", "--service", "redis", "--state", "lost"});
  ASSERT_EQ(lost.code, kExitOk) << lost.err;
  EXPECT_EQ(lost.out.find("redis-1"), std::string::npos) << lost.out;
  EXPECT_NE(lost.out.find("redis-2"), std::string::npos) << lost.out;

  CliRun history =
      run({"history", "redis-1", "--since", "1970-01-01T00:00:01+00:00", "--limit", "7"});
  ASSERT_EQ(history.code, kExitOk) << history.err;
  EXPECT_EQ(history.out, "no history for agent redis-1\n");
  EXPECT_EQ(state_.lastHistoryQuery(), (std::pair<int64_t, size_t>{1000, 7}));

  CliRun bad = run({"history", "redis-1", "--limit", "0"});
  EXPECT_EQ(bad.code, kExitHttpError);
  EXPECT_NE(bad.err.find("Bad Request: limit must be"), std::string::npos) << bad.err;
}

TEST_F(CliTest, StatusServicesAndOneAgent) {
  CliRun status = run({"status"});
  ASSERT_EQ(status.code, kExitOk) << status.err;
  EXPECT_NE(status.out.find("agents:          3 total, 2 alive, 0 suspect, 1 lost"),
            std::string::npos)
      << status.out;
  // Below the summary, the agents themselves.
  EXPECT_NE(status.out.find("ID "), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("pg-1"), std::string::npos) << status.out;

  CliRun services = run({"services"});
  ASSERT_EQ(services.code, kExitOk) << services.err;
  EXPECT_NE(services.out.find("redis     redis     2       1      0        1     1        1      "
                              "redis-1,redis-2"),
            std::string::npos)
      << services.out;

  CliRun agent = run({"agent", "redis-1"});
  ASSERT_EQ(agent.code, kExitOk) << agent.err;
  EXPECT_NE(agent.out.find("id:               redis-1"), std::string::npos) << agent.out;
  EXPECT_NE(agent.out.find("PROBE"), std::string::npos) << agent.out;
}

TEST_F(CliTest, ServiceTopAndMetric) {
  CliRun service = run({"service", "redis"});
  ASSERT_EQ(service.code, kExitOk) << service.err;
  EXPECT_NE(service.out.find("service:   redis (kind redis)\n"), std::string::npos) << service.out;
  EXPECT_NE(service.out.find("MEMBER   HOST          ROLE  STATE  HEALTH     LAG\n"),
            std::string::npos)
      << service.out;
  EXPECT_NE(service.out.find("redis-2  host-redis-2  -     lost   unhealthy  -\n"),
            std::string::npos)
      << service.out;

  CliRun unknown = run({"service", "nope"});
  EXPECT_EQ(unknown.code, kExitHttpError);
  EXPECT_NE(unknown.err.find("Not Found: no service 'nope'"), std::string::npos) << unknown.err;
  EXPECT_EQ(run({"service"}).code, kExitUsage);

  CliRun top = run({"top"});
  ASSERT_EQ(top.code, kExitOk) << top.err;
  EXPECT_EQ(top.out.rfind("SERVICE   REPLICAS  READY  CPU(AVG/MAX)  MEM(AVG/MAX)  RPS  RATES\n", 0),
            0u)
      << top.out;
  EXPECT_NE(top.out.find("redis     2         1      -             -             -    -\n"),
            std::string::npos)
      << top.out;

  controller::HistoryEntry e;
  e.ts_ms = noa::testing::kT0;
  e.report.metrics = {{"cpu_usage_cores", 0.5}};
  state_.setHistory("redis-1", {e});
  CliRun metric = run({"metric", "redis-1", "cpu_usage_cores", "--limit", "3"});
  ASSERT_EQ(metric.code, kExitOk) << metric.err;
  EXPECT_NE(metric.out.find("  0.5\n"), std::string::npos) << metric.out;
  EXPECT_EQ(state_.lastHistoryQuery().second, 3u);
  EXPECT_EQ(run({"metric", "redis-1"}).code, kExitUsage);
}

TEST_F(CliTest, DegradedControllerPrintsStatusAndExits3) {
  state_.setStoreHealth(Status::IoError("disk full"));
  CliRun r = run({"status"});
  EXPECT_EQ(r.code, kExitHttpError);
  EXPECT_NE(r.out.find("status:          degraded"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("noactl: the controller is degraded: store IoError: disk full"),
            std::string::npos)
      << r.err;
}

TEST_F(CliTest, UnknownAgentIsAnHttpErrorWithTheProblemText) {
  CliRun r = run({"agent", "nope"});
  EXPECT_EQ(r.code, kExitHttpError);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err.rfind("noactl: Not Found: no agent 'nope' (HTTP 404 from " + url_, 0), 0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(Cli, UnreachableControllerExits2AndNamesTheUrl) {
  noa::testing::FakeClock clock;
  ClosedPort closed;
  const std::string url = "http://127.0.0.1:" + std::to_string(closed.port());
  CliRun r = runWith({"--controller", url, "agents"}, clock);
  EXPECT_EQ(r.code, kExitUnreachable);
  EXPECT_EQ(r.err, "noactl: cannot reach the controller at " + url + " (connection failed)\n");

  closed.listenSilently();
  CliRun slow = runWith({"--controller", url, "--timeout", "200ms", "status"}, clock);
  EXPECT_EQ(slow.code, kExitUnreachable);
  EXPECT_NE(slow.err.find("no answer within 200ms"), std::string::npos) << slow.err;
}

TEST(Cli, ResponsesThatAreNotTheApiExit4) {
  noa::testing::FakeClock clock;
  httplib::Server fake;
  fake.Get("/v1/agents", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html>hello</html>", "text/html");
  });
  fake.Get("/v1/services", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"services": 5})", "application/json");
  });
  const int port = fake.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { fake.listen_after_bind(); });
  const std::string url = "http://127.0.0.1:" + std::to_string(port);

  CliRun html = runWith({"--controller", url, "agents"}, clock);
  EXPECT_EQ(html.code, kExitBadResponse);
  EXPECT_NE(html.err.find("not JSON"), std::string::npos) << html.err;
  CliRun shape = runWith({"--controller", url, "services"}, clock);
  EXPECT_EQ(shape.code, kExitBadResponse);
  EXPECT_NE(shape.err.find("\"services\""), std::string::npos) << shape.err;
  CliRun missing = runWith({"--controller", url, "status"}, clock);
  EXPECT_EQ(missing.code, kExitHttpError);
  EXPECT_EQ(missing.err, "noactl: HTTP 404 from " + url + "/v1/health\n");

  while (!fake.is_running()) std::this_thread::yield();
  fake.stop();
  thread.join();
}

TEST(Cli, UsageErrorsExit1WithUsage) {
  noa::testing::FakeClock clock;
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"bogus"},
                                             {"agent"},
                                             {"agents", "extra"},
                                             {"agents", "--limit", "3"},
                                             {"--output", "yaml", "agents"},
                                             {"--timeout", "soon", "agents"},
                                             {"--controller", "tcp://127.0.0.1:7701", "agents"},
                                             {"--controller", "http://:80", "agents"},
                                             {"--controller", "http://h:99999", "agents"},
                                             {"--nope", "agents"}}) {
    CliRun r = runWith(args, clock);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitUsage) << joined;
    EXPECT_EQ(r.err.rfind("noactl: ", 0), 0u) << joined << r.err;
    EXPECT_NE(r.err.find("usage: noactl"), std::string::npos) << joined << r.err;
  }
}

TEST(Cli, HelpListsEveryCommand) {
  noa::testing::FakeClock clock;
  CliRun r = runWith({"--help"}, clock);
  EXPECT_EQ(r.code, kExitOk);
  for (const char* command : {"status", "agents", "agent ID", "services", "service NAME", "top",
                              "history SERVICE | history ID", "metric ID NAME"}) {
    EXPECT_NE(r.out.find("  " + std::string(command)), std::string::npos) << command;
  }
  EXPECT_NE(r.out.find("NOA_CONTROLLER_URL"), std::string::npos);
}

TEST_F(CliTest, ControllerUrlFromTheEnvironment) {
  ::setenv("NOA_CONTROLLER", "tcp://127.0.0.1:7701", 1);  // noa-agent's setting, not ours
  ::setenv("NOA_CONTROLLER_URL", url_.c_str(), 1);
  CliRun r = runWith({"--output", "json", "services"}, clock_);
  ::unsetenv("NOA_CONTROLLER_URL");
  ::unsetenv("NOA_CONTROLLER");
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(json::parse(r.out)["services"].size(), 2u);

  ::setenv("NOA_OUTPUT", "json", 1);
  CliRun env_output = run({"services"});
  ::unsetenv("NOA_OUTPUT");
  EXPECT_EQ(env_output.out.front(), '{') << env_output.out;
}

TEST(ControllerUrl, ParsesSchemeHostPortAndBasePath) {
  auto url = parseControllerUrl("http://ctl.example:7700/noa/");
  ASSERT_OK(url);
  EXPECT_EQ(url->origin(), "http://ctl.example:7700");
  EXPECT_EQ(url->base_path, "/noa");
  EXPECT_EQ(parseControllerUrl("https://ctl")->port, 443);
  EXPECT_EQ(parseControllerUrl("http://[::1]:7700")->origin(), "http://[::1]:7700");
  for (const char* bad : {"127.0.0.1:7700", "ftp://h", "http://", "http://h:", "http://h:0",
                          "http://h:x", "http://[::1", "http://h/?q", "http://u@h"}) {
    EXPECT_FALSE(parseControllerUrl(bad).ok()) << bad;
  }
  EXPECT_EQ(urlEncode("a b/c?é"), "a%20b%2Fc%3F%C3%A9");
}

}  // namespace
}  // namespace noa::cli
