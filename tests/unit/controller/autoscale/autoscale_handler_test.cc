// The autoscale routes through the route table (dispatch, no socket) against a real
// AutoscaleCoordinator, and noactl's rendering of the state they return.

#include "controller/api/autoscale_handler.h"

#include <gtest/gtest.h>

#include "controller/api/routes.h"
#include "controller/autoscale/autoscale_coordinator.h"
#include "controller/cli/runner.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::api {
namespace {

using nlohmann::json;

class AutoscaleState final : public StateView {
 public:
  ControllerInfo info() const override { return {}; }
  std::vector<AgentRecord> agents() const override { return {}; }
  std::optional<AgentRecord> agent(const std::string&) const override { return std::nullopt; }
  Result<std::vector<HistoryEntry>> history(const std::string&, int64_t, size_t) const override {
    return std::vector<HistoryEntry>{};
  }
  std::string metricsText() const override { return ""; }
  autoscale::AutoscaleCoordinator* autoscale() const override { return coordinator; }
  autoscale::AutoscaleCoordinator* coordinator = nullptr;
};

class AutoscaleHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open({dir_.path()});
    ASSERT_OK(store.status());
    store_ = std::move(store).value();
    auto policies = autoscale::parseAutoscalePolicies(
        "services:\n  mcp:\n    autoscale: {min_replicas: 2, max_replicas: 10}\n");
    ASSERT_OK(policies.status());
    coordinator_ = std::make_unique<autoscale::AutoscaleCoordinator>(
        *policies, [](const std::set<std::string>&) { return std::vector<AgentRecord>{}; },
        *store_,
        [](decisions::DecisionRecord) { return Status::Ok(); }, clock_);
    ASSERT_OK(coordinator_->start());
    state_.coordinator = coordinator_.get();
  }

  ApiResponse call(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    ApiRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    const ApiContext context{state_, clock_};
    return dispatch(context, std::move(request));
  }

  noa::controller::testing::TempDir dir_;
  noa::testing::FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<autoscale::AutoscaleCoordinator> coordinator_;
  AutoscaleState state_;
};

TEST_F(AutoscaleHandlerTest, GetShowsThePolicyWithSeedDefaults) {
  ApiResponse res = call("GET", "/v1/services/mcp/autoscale");
  ASSERT_EQ(res.status, 200) << res.body;
  json body = json::parse(res.body);
  EXPECT_EQ(body["mode"], "auto");
  EXPECT_EQ(body["policy"]["min_replicas"], 2);
  EXPECT_EQ(body["policy"]["metrics"][0]["metric"], "cpu");
  EXPECT_EQ(body["policy"]["metrics"][0]["target"], 70);
  EXPECT_EQ(call("GET", "/v1/services/redis/autoscale").status, 404);
}

TEST_F(AutoscaleHandlerTest, ScalePauseAndResume) {
  ApiResponse scaled = call("POST", "/v1/services/mcp/scale", R"({"replicas": 4, "ttl": "30m"})");
  ASSERT_EQ(scaled.status, 200) << scaled.body;
  json body = json::parse(scaled.body);
  EXPECT_EQ(body["mode"], "override");
  EXPECT_EQ(body["override"]["replicas"], 4);
  EXPECT_EQ(body["override"]["until_ms"].get<int64_t>() - body["override"]["at_ms"].get<int64_t>(),
            1'800'000);
  EXPECT_EQ(call("POST", "/v1/services/mcp/scale", R"({"replicas": 11})").status, 400);
  EXPECT_EQ(call("POST", "/v1/services/mcp/scale", R"({"replica": 1})").status, 400);
  EXPECT_EQ(call("POST", "/v1/services/mcp/scale", R"({"replicas": 1, "ttl": "soon"})").status,
            400);
  // Found by tests/fuzz (rest_bodies): seconds * 1000 overflowed int64 (UB) instead of a 400.
  ApiResponse huge_ttl = call("POST", "/v1/services/mcp/scale",
                              R"({"replicas": 1, "ttl": 9223372036854775807})");
  EXPECT_EQ(huge_ttl.status, 400);
  EXPECT_NE(huge_ttl.body.find("out of range"), std::string::npos) << huge_ttl.body;
  EXPECT_EQ(call("POST", "/v1/services/nope/scale", R"({"replicas": 1})").status, 404);
  ASSERT_OK(coordinator_->clearOverride("mcp"));

  ApiResponse paused = call("POST", "/v1/services/mcp/autoscale/pause");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(json::parse(paused.body)["mode"], "paused");
  EXPECT_EQ(json::parse(paused.body)["paused"]["by"], "anonymous");
  ApiResponse resumed = call("POST", "/v1/services/mcp/autoscale/resume", "{}");
  ASSERT_EQ(resumed.status, 200) << resumed.body;
  EXPECT_EQ(json::parse(resumed.body)["mode"], "auto");
  EXPECT_EQ(call("POST", "/v1/services/mcp/autoscale/pause", R"({"why": 1})").status, 400);
}

TEST_F(AutoscaleHandlerTest, ReadsAreForViewersChangesForOperators) {
  for (const Route& route : routeTable()) {
    const std::string path(route.path);
    if (path.find("/autoscale") == std::string::npos && path.find("/scale") == std::string::npos) {
      continue;
    }
    EXPECT_EQ(route.role, route.method == "GET" ? Role::kViewer : Role::kOperator) << path;
  }
}

TEST_F(AutoscaleHandlerTest, NoactlRendersTheState) {
  ASSERT_OK(coordinator_->setOverride("mcp", 3, 600'000, "alice").status());
  json body = json::parse(call("GET", "/v1/services/mcp/autoscale").body);
  auto text = cli::renderAutoscale(body, toUnixMillis(clock_.wallNow()));
  ASSERT_OK(text.status());
  EXPECT_NE(text->find("override to 3 by alice, ends in 10m"), std::string::npos) << *text;
  EXPECT_NE(text->find("cpu utilization 70, memory utilization 80"), std::string::npos) << *text;
  EXPECT_NE(text->find("(min 2, max 10)"), std::string::npos) << *text;
  EXPECT_FALSE(cli::renderAutoscale(json::array(), 0).ok());
}

}  // namespace
}  // namespace noa::controller::api
