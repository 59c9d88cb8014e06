// The command routes: handlers through the route table (dispatch, no socket) against a real
// CommandBook, then long-polls over real HTTP where threads and the server's stop matter.

#include "controller/api/commands_handler.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "controller/api/api_server.h"
#include "controller/api/problem.h"
#include "controller/api/routes.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_agent_side.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::controller::api {
namespace {

using namespace std::chrono_literals;
using commands::CommandBook;
using nlohmann::json;
using noa::testing::deliverTo;
using noa::testing::kT0;
using noa::testing::makeAgent;
using noa::testing::reportProgress;
using noa::testing::reportResult;
using SteadyClock = std::chrono::steady_clock;

AgentRecord withCapabilities(AgentRecord agent) {
  agent.hello.capabilities = {"ping", "backup.pg_dump"};
  return agent;
}

class CommandsHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.setAgents({
        withCapabilities(
            makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary")),
        withCapabilities(
            makeAgent("pg-2", "postgres", "postgres", Liveness::kAlive, "healthy", "replica")),
        withCapabilities(makeAgent("pg-9", "postgres", "postgres", Liveness::kLost)),
        withCapabilities(
            makeAgent("dup-1", "dup", "redis", Liveness::kAlive, "healthy", "primary")),
        withCapabilities(
            makeAgent("dup-2", "dup", "redis", Liveness::kAlive, "healthy", "primary")),
        makeAgent("redis-1", "redis", "redis", Liveness::kAlive),
    });
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

  json create(const json& body, int expect_status = 201) {
    ApiResponse res = call("POST", "/v1/commands", body.dump());
    EXPECT_EQ(res.status, expect_status) << res.body;
    return json::parse(res.body);
  }

  // A 400 naming the body member `field`, with `text` in its detail.
  void expectBadField(const std::string& body, const std::string& field, const std::string& text) {
    ApiResponse res = call("POST", "/v1/commands", body);
    EXPECT_EQ(res.status, 400) << body << ": " << res.body;
    EXPECT_EQ(res.content_type, kProblemContentType);
    const json problem = json::parse(res.body);
    EXPECT_EQ(problem.value("field", ""), field) << body << ": " << res.body;
    EXPECT_NE(problem.value("detail", "").find(text), std::string::npos) << res.body;
  }

  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }

  prometheus::Registry registry_;
  noa::testing::FakeClock clock_;
  noa::testing::FakeStateView state_{registry_};
  CommandBook& book_ = state_.enableCommands(clock_);
  std::shared_ptr<Authenticator> auth_ = noa::testing::makeTestAuthenticator();
};

TEST_F(CommandsHandlerTest, CreateForTheRoleOfAServiceResolvesItsAgentWithAnHourByDefault) {
  ApiResponse res =
      call("POST", "/v1/commands",
           R"({"action": "backup.pg_dump", "service": "postgres", "role": "primary"})");
  ASSERT_EQ(res.status, 201) << res.body;
  const json body = json::parse(res.body);
  EXPECT_EQ(body["agent_id"], "pg-1");
  EXPECT_EQ(body["service"], "postgres");
  EXPECT_EQ(body["role"], "primary");
  EXPECT_EQ(body["action"], "backup.pg_dump");
  EXPECT_EQ(body["state"], "pending");
  EXPECT_EQ(body["params"], json::object());
  EXPECT_EQ(body["created_by"], "anonymous");
  EXPECT_EQ(body["created_ms"], kT0);
  EXPECT_EQ(body["deadline_ms"], kT0 + 3'600'000) << "a command never sits forever";
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Location");
  EXPECT_EQ(res.headers[0].second, "/v1/commands/" + body["id"].get<std::string>());
  EXPECT_TRUE(book_.get(body["id"]).has_value()) << "stored";
}

TEST_F(CommandsHandlerTest, CreateForAnAgentWithParamsTimeoutAndTheCallerAsCreator) {
  ApiResponse res =
      call("POST", "/v1/commands",
           R"({"action": "ping", "agent_id": "pg-2", "params": {"count": 3, "tags": ["a"]},
          "timeout": "30m"})",
           {}, "operator-token");
  ASSERT_EQ(res.status, 201) << res.body;
  const json body = json::parse(res.body);
  EXPECT_EQ(body["agent_id"], "pg-2");
  EXPECT_EQ(body["role"], "");
  EXPECT_EQ(body["params"], json({{"count", 3}, {"tags", {"a"}}}));
  EXPECT_EQ(body["deadline_ms"], kT0 + 30 * 60'000);
  EXPECT_EQ(body["created_by"], "o");

  const json by_deadline =
      create({{"action", "ping"}, {"agent_id", "pg-1"}, {"deadline_ms", nowMs() + 5000}});
  EXPECT_EQ(by_deadline["deadline_ms"], kT0 + 5000);
  // The role is a check when the agent is named.
  create({{"action", "ping"}, {"agent_id", "pg-1"}, {"role", "primary"}});
  create({{"action", "ping"}, {"agent_id", "pg-2"}, {"role", "primary"}}, 400);
}

TEST_F(CommandsHandlerTest, AllFansOutToEveryLiveAgentOfTheService) {
  const json body = create({{"action", "ping"}, {"service", "postgres"}, {"all", true}});
  ASSERT_EQ(body["count"], 2) << "pg-9 is lost: not a target";
  ASSERT_EQ(body["commands"].size(), 2u);
  std::set<std::string> agents;
  for (const json& item : body["commands"]) {
    auto record = book_.get(item["id"]);
    ASSERT_TRUE(record.has_value()) << "stored";
    EXPECT_EQ(record->agent_id, item["agent_id"]);
    EXPECT_EQ(record->service, "postgres");
    EXPECT_EQ(record->deadline_ms, kT0 + 3'600'000);
    agents.insert(item["agent_id"].get<std::string>());
  }
  EXPECT_EQ(agents, (std::set<std::string>{"pg-1", "pg-2"}));

  // With a role only that role's agents; two primaries are fine here (all of them asked for).
  EXPECT_EQ(
      create({{"action", "ping"}, {"service", "dup"}, {"role", "primary"}, {"all", true}})["count"],
      2);
  EXPECT_EQ(create({{"action", "ping"},
                    {"service", "postgres"},
                    {"role", "replica"},
                    {"all", true}})["commands"][0]["agent_id"],
            "pg-2");
  // Refusals: all or nothing.
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "all": true})", "all",
                 "needs a service");
  expectBadField(R"({"action": "ping", "service": "postgres", "all": "yes"})", "all", "must be");
  EXPECT_EQ(
      call("POST", "/v1/commands", R"({"action": "ping", "service": "nope", "all": true})").status,
      404);
  const size_t before = book_.size();
  EXPECT_EQ(
      call("POST", "/v1/commands", R"({"action": "ping", "service": "redis", "all": true})").status,
      400)
      << "redis-1 advertises no actions";
  EXPECT_EQ(book_.size(), before) << "nothing created when one target cannot run it";
}

TEST_F(CommandsHandlerTest, BadBodiesAnswer400NamingTheField) {
  for (const char* body : {"", "not json", "[1, 2]", "\"ping\""}) {
    ApiResponse res = call("POST", "/v1/commands", body);
    EXPECT_EQ(res.status, 400) << body;
    EXPECT_NE(res.body.find("JSON object"), std::string::npos) << res.body;
  }
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "deadline": 5})", "deadline",
                 "unknown field 'deadline'");
  expectBadField(R"({"action": 5, "agent_id": "pg-1"})", "action", "must be a string");
  expectBadField(R"({"action": "", "agent_id": "pg-1"})", "action", "must not be empty");
  expectBadField(R"({"agent_id": "pg-1"})", "action", "required");
  expectBadField(R"({"action": "ping", "agent_id": ["pg-1"]})", "agent_id", "must be a string");
  expectBadField(R"({"action": "ping", "service": 1})", "service", "must be a string");
  expectBadField(R"({"action": "ping", "service": "postgres", "role": true})", "role",
                 "must be a string");
  expectBadField(R"({"action": "ping"})", "agent_id", "needs a target");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "service": "postgres"})", "service",
                 "not both");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "params": [1]})", "params",
                 "JSON object");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "timeout": 30})", "timeout",
                 "must be a string");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "timeout": "soon"})", "timeout",
                 "must start with a number");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "timeout": "0s"})", "timeout",
                 "more than 0");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "timeout": "30d"})", "timeout",
                 "at most 7d");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "deadline_ms": "soon"})", "deadline_ms",
                 "integer");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "deadline_ms": 1000})", "deadline_ms",
                 "already passed");
  expectBadField(R"({"action": "ping", "agent_id": "pg-1", "timeout": "1m", "deadline_ms": 1})",
                 "deadline_ms", "not both");
  EXPECT_EQ(book_.size(), 0u) << "nothing refused was stored";
}

TEST_F(CommandsHandlerTest, TargetRefusalsMapToNotFoundConflictAndBadRequest) {
  struct Case {
    json body;
    int status;
    const char* detail;
  };
  const Case cases[] = {
      {{{"action", "ping"}, {"agent_id", "pg-77"}}, 404, "no agent 'pg-77'"},
      {{{"action", "ping"}, {"service", "mysql"}}, 404, "no live agent"},
      {{{"action", "ping"}, {"service", "postgres"}, {"role", "standby"}}, 404, "role 'standby'"},
      {{{"action", "ping"}, {"agent_id", "pg-9"}}, 409, "would never be delivered"},
      {{{"action", "ping"}, {"service", "dup"}, {"role", "primary"}}, 409, "dup-1, dup-2"},
      {{{"action", "ping"}, {"service", "postgres"}}, 409, "2 agents"},
      {{{"action", "restore"}, {"agent_id", "pg-1"}}, 400, "cannot run 'restore'"},
      {{{"action", "ping"}, {"agent_id", "redis-1"}}, 400, "cannot run 'ping'"},
      {{{"action", "ping"},
        {"agent_id", "pg-1"},
        {"params", {{"list", json::array({std::string(20000, 'x')})}}}},
       400,
       "exceed the limit"},
  };
  for (const Case& c : cases) {
    ApiResponse res = call("POST", "/v1/commands", c.body.dump());
    EXPECT_EQ(res.status, c.status) << c.body << ": " << res.body;
    EXPECT_EQ(res.content_type, kProblemContentType);
    EXPECT_NE(json::parse(res.body).value("detail", "").find(c.detail), std::string::npos)
        << c.body << ": " << res.body;
  }
  EXPECT_EQ(book_.size(), 0u);
}

TEST_F(CommandsHandlerTest, WithoutACommandChannelEveryRouteAnswers503) {
  prometheus::Registry registry;
  noa::testing::FakeStateView bare(registry);
  const ApiContext context{bare, clock_};
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"POST", "/v1/commands"},
                                                        {"GET", "/v1/commands"},
                                                        {"GET", "/v1/commands/cmd-1"},
                                                        {"POST", "/v1/commands/cmd-1/cancel"}}) {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.body = R"({"action": "ping", "agent_id": "pg-1"})";
    ApiResponse res = dispatch(context, request);
    EXPECT_EQ(res.status, 503) << path;
    EXPECT_NE(res.body.find("the command channel is not available"), std::string::npos);
  }
}

TEST_F(CommandsHandlerTest, ListIsNewestFirstAndFiltersByStateServiceAgentAndLimit) {
  const std::string a = create({{"action", "ping"}, {"agent_id", "pg-1"}})["id"];
  clock_.advance(1ms);
  const std::string b = create({{"action", "ping"}, {"agent_id", "pg-2"}})["id"];
  clock_.advance(1ms);
  const std::string c = create({{"action", "ping"}, {"agent_id", "dup-1"}})["id"];
  deliverTo(book_, "pg-1");
  reportResult(book_, "pg-1", a, "succeeded");

  auto ids = [&](std::multimap<std::string, std::string> query) {
    ApiResponse res = call("GET", "/v1/commands", "", std::move(query));
    EXPECT_EQ(res.status, 200) << res.body;
    std::vector<std::string> out;
    const json body = json::parse(res.body);
    for (const json& cmd : body["commands"]) out.push_back(cmd["id"]);
    return out;
  };
  EXPECT_EQ(ids({}), (std::vector<std::string>{c, b, a}));
  EXPECT_EQ(ids({{"state", "succeeded"}}), (std::vector<std::string>{a}));
  EXPECT_EQ(ids({{"state", "pending"}}), (std::vector<std::string>{c, b}));
  EXPECT_EQ(ids({{"service", "postgres"}}), (std::vector<std::string>{b, a}));
  EXPECT_EQ(ids({{"agent", "dup-1"}}), (std::vector<std::string>{c}));
  EXPECT_EQ(ids({{"limit", "1"}}), (std::vector<std::string>{c}));
  EXPECT_EQ(ids({{"state", ""}}).size(), 3u) << "empty means any";

  for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"state", "done"}, {"limit", "0"}, {"limit", "1001"}, {"limit", "ten"}}) {
    ApiResponse res = call("GET", "/v1/commands", "", {{name, value}});
    EXPECT_EQ(res.status, 400) << name << "=" << value;
    EXPECT_EQ(json::parse(res.body)["parameter"], name) << res.body;
  }
}

TEST_F(CommandsHandlerTest, GetOneOrNotFoundAndWaitIsBounded) {
  const std::string id = create({{"action", "ping"}, {"agent_id", "pg-1"}})["id"];
  ApiResponse res = call("GET", "/v1/commands/" + id);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(json::parse(res.body)["id"], id);
  EXPECT_EQ(call("GET", "/v1/commands/cmd-nope").status, 404);
  EXPECT_EQ(call("GET", "/v1/commands/cmd-nope", "", {{"wait", "30s"}}).status, 404)
      << "an unknown id is not waited for";
  for (const char* wait : {"forever", "61s", "-1s"}) {
    ApiResponse bad = call("GET", "/v1/commands/" + id, "", {{"wait", wait}});
    EXPECT_EQ(bad.status, 400) << wait;
    EXPECT_EQ(json::parse(bad.body)["parameter"], "wait");
  }
  // A short wait ends with the record as it is.
  const auto start = SteadyClock::now();
  ApiResponse waited = call("GET", "/v1/commands/" + id, "", {{"wait", "20ms"}});
  EXPECT_GE(SteadyClock::now() - start, 20ms);
  ASSERT_EQ(waited.status, 200);
  EXPECT_EQ(json::parse(waited.body)["state"], "pending");
}

TEST_F(CommandsHandlerTest, CancelEndsAPendingCommandAndRefusesAFinishedOne) {
  const std::string id = create({{"action", "ping"}, {"agent_id", "pg-1"}})["id"];
  ApiResponse res = call("POST", "/v1/commands/" + id + "/cancel", "", {}, "operator-token");
  ASSERT_EQ(res.status, 200) << res.body;
  const json body = json::parse(res.body);
  EXPECT_EQ(body["state"], "cancelled");
  EXPECT_EQ(body["history"].back()["detail"], "o") << body.dump();

  ApiResponse again = call("POST", "/v1/commands/" + id + "/cancel");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(call("POST", "/v1/commands/cmd-nope/cancel").status, 404);

  const std::string running = create({{"action", "ping"}, {"agent_id", "pg-1"}})["id"];
  deliverTo(book_, "pg-1");
  reportProgress(book_, "pg-1", running, "dump", 10);
  ApiResponse requested = call("POST", "/v1/commands/" + running + "/cancel", "{}");
  ASSERT_EQ(requested.status, 200) << requested.body;
  EXPECT_EQ(json::parse(requested.body)["state"], "running") << "the agent decides";
  EXPECT_EQ(json::parse(requested.body)["cancel_requested"], true);

  ApiResponse with_reason = call("POST", "/v1/commands/" + running + "/cancel", R"({"why": 1})");
  EXPECT_EQ(with_reason.status, 400);
  EXPECT_EQ(json::parse(with_reason.body)["field"], "why");
}

TEST_F(CommandsHandlerTest, TheRouteTableGivesChangesToOperatorsAndReadsToViewers) {
  EXPECT_EQ(
      call("POST", "/v1/commands", R"({"action": "ping", "agent_id": "pg-1"})", {}, "viewer-token")
          .status,
      403);
  EXPECT_EQ(call("POST", "/v1/commands/x/cancel", "", {}, "viewer-token").status, 403);
  EXPECT_EQ(call("GET", "/v1/commands", "", {}, "viewer-token").status, 200);
  EXPECT_EQ(call("GET", "/v1/commands/x", "", {}, "viewer-token").status, 404);
  EXPECT_EQ(call("GET", "/v1/commands").status, 200) << "--api-auth none: anonymous admin";
}

// ---- over HTTP ----

class CommandsOverHttpTest : public CommandsHandlerTest {
 protected:
  void startServer(size_t max_long_polls = 0) {
    ApiOptions options;
    options.port = 0;
    options.max_long_polls = max_long_polls;
    server_ = std::make_unique<ApiServer>(state_, registry_, options, clock_);
    ASSERT_OK(server_->start());
  }

  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    c->set_read_timeout(90s);
    return c;
  }

  std::string createOverHttp() {
    auto res = client()->Post("/v1/commands", R"({"action": "ping", "agent_id": "pg-1"})",
                              "application/json");
    EXPECT_TRUE(res);
    if (!res) return "";
    EXPECT_EQ(res->status, 201) << res->body;
    const std::string id = json::parse(res->body)["id"];
    EXPECT_EQ(res->get_header_value("Location"), "/v1/commands/" + id);
    return id;
  }

  std::unique_ptr<ApiServer> server_;
};

TEST_F(CommandsOverHttpTest, ALongPollReturnsAsSoonAsTheResultIsApplied) {
  startServer();
  const std::string id = createOverHttp();
  deliverTo(book_, "pg-1");
  std::thread agent([&] {
    std::this_thread::sleep_for(50ms);  // so the GET below is waiting when the result lands
    reportResult(book_, "pg-1", id, "succeeded", "", "", R"({"pong": true})");
  });
  const auto start = SteadyClock::now();
  auto res = client()->Get(("/v1/commands/" + id + "?wait=60s").c_str());
  const auto waited = SteadyClock::now() - start;
  agent.join();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json body = json::parse(res->body);
  EXPECT_EQ(body["state"], "succeeded");
  EXPECT_EQ(body["result"]["output"]["pong"], true);
  EXPECT_LT(waited, 10s) << "woken by the result, not by the end of the wait";
}

TEST_F(CommandsOverHttpTest, StopEndsLongPollsAtOnce) {
  startServer();
  const std::string id = createOverHttp();
  std::optional<int> status;
  std::string state;
  std::thread waiter([&] {
    auto res = client()->Get(("/v1/commands/" + id + "?wait=60s").c_str());
    if (res) {
      status = res->status;
      state = json::parse(res->body).value("state", "");
    }
  });
  std::this_thread::sleep_for(100ms);  // so the GET is waiting when the server stops
  const auto start = SteadyClock::now();
  server_->stop();
  EXPECT_LT(SteadyClock::now() - start, 10s);
  waiter.join();
  ASSERT_TRUE(status.has_value()) << "answered, not cut off";
  EXPECT_EQ(*status, 200);
  EXPECT_EQ(state, "pending");
}

TEST_F(CommandsOverHttpTest, LongPollsBeyondTheirSlotsAreAnsweredAtOnce) {
  startServer(/*max_long_polls=*/1);
  const std::string id = createOverHttp();
  std::string first_state;
  std::thread first([&] {
    auto res = client()->Get(("/v1/commands/" + id + "?wait=60s").c_str());
    if (res) first_state = json::parse(res->body).value("state", "");
  });
  std::this_thread::sleep_for(100ms);  // so the first GET holds the only slot
  const auto start = SteadyClock::now();
  auto second = client()->Get(("/v1/commands/" + id + "?wait=60s").c_str());
  EXPECT_LT(SteadyClock::now() - start, 10s);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(json::parse(second->body)["state"], "pending");
  // Cancelling a pending command ends it, and with it the first wait.
  ASSERT_OK(book_.cancel(id, "test"));
  first.join();
  EXPECT_EQ(first_state, "cancelled");
}

}  // namespace
}  // namespace noa::controller::api
