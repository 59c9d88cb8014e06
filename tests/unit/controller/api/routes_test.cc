#include "controller/api/routes.h"

#include <gtest/gtest.h>

#include "controller/api/problem.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/api/fake_state_view.h"

namespace noa::controller::api {
namespace {

TEST(Routes, TemplatesMatchWholeSegments) {
  std::map<std::string, std::string> params;
  EXPECT_TRUE(matchPath("/v1/agents/{id}", "/v1/agents/redis-1", &params));
  EXPECT_EQ(params["id"], "redis-1");
  EXPECT_TRUE(matchPath("/v1/agents/{id}/history", "/v1/agents/a.b_c/history", &params));
  EXPECT_EQ(params["id"], "a.b_c");
  EXPECT_FALSE(matchPath("/v1/agents/{id}", "/v1/agents/", nullptr));
  EXPECT_FALSE(matchPath("/v1/agents/{id}", "/v1/agents", nullptr));
  EXPECT_FALSE(matchPath("/v1/agents", "/v1/agents/", nullptr));
  EXPECT_FALSE(matchPath("/v1/agents/{id}", "/v1/agents/a/b", nullptr));
  EXPECT_FALSE(matchPath("/v1/health", "", nullptr));
  EXPECT_FALSE(matchPath("/v1/health", "v1/health", nullptr));
}

TEST(Routes, EveryRouteHasASummaryAndAPathUnderV1OrMetrics) {
  ASSERT_FALSE(routeTable().empty());
  for (const Route& r : routeTable()) {
    EXPECT_EQ(r.mutates(), r.method != "GET") << r.path;
    EXPECT_TRUE(r.method == "GET" || r.method == "POST" || r.method == "PUT" ||
                r.method == "DELETE")
        << r.path;
    EXPECT_FALSE(r.summary.empty()) << r.path;
    EXPECT_TRUE(r.path.starts_with("/v1/") || r.path == "/metrics") << r.path;
    EXPECT_NE(r.handler, nullptr);
  }
}

TEST(Routes, FindRouteTellsUnknownPathFromWrongMethod) {
  RouteMatch get = findRoute("GET", "/v1/agents/x");
  ASSERT_NE(get.route, nullptr);
  EXPECT_EQ(get.route->path, "/v1/agents/{id}");
  EXPECT_EQ(get.params.at("id"), "x");

  RouteMatch head = findRoute("HEAD", "/v1/health");
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->path, "/v1/health");

  RouteMatch post = findRoute("POST", "/v1/agents");
  EXPECT_EQ(post.route, nullptr);
  EXPECT_EQ(post.allow, (std::vector<std::string_view>{"GET", "HEAD"}));

  RouteMatch unknown = findRoute("GET", "/v2/agents");
  EXPECT_EQ(unknown.route, nullptr);
  EXPECT_TRUE(unknown.allow.empty());
}

TEST(Routes, LabelsAreTemplatesSoCardinalityStaysBounded) {
  EXPECT_EQ(routeLabel("/v1/agents/redis-1"), "/v1/agents/{id}");
  EXPECT_EQ(routeLabel("/v1/agents/redis-1/history"), "/v1/agents/{id}/history");
  EXPECT_EQ(routeLabel("/v1/agents/redis-1/metrics"), "/v1/agents/{id}/metrics");
  EXPECT_EQ(routeLabel("/v1/services/postgres"), "/v1/services/{name}");
  EXPECT_EQ(routeLabel("/metrics"), "/metrics");
  EXPECT_EQ(routeLabel("/whatever/123"), "unmatched");
  EXPECT_EQ(routeLabel(""), "unmatched");
}

TEST(Routes, DispatchAnswersProblemsFor404And405) {
  prometheus::Registry registry;
  noa::testing::FakeStateView state(registry);
  noa::testing::FakeClock clock;
  const ApiContext context{state, clock};

  ApiResponse not_found = dispatch(context, {"GET", "/nope", {}, {}});
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.content_type, kProblemContentType);
  auto body = nlohmann::json::parse(not_found.body);
  EXPECT_EQ(body["status"], 404);
  EXPECT_EQ(body["title"], "Not Found");
  EXPECT_EQ(body["type"], "about:blank");

  ApiResponse wrong = dispatch(context, {"DELETE", "/v1/agents/x", {}, {}});
  EXPECT_EQ(wrong.status, 405);
  ASSERT_EQ(wrong.headers.size(), 1u);
  EXPECT_EQ(wrong.headers[0], (std::pair<std::string, std::string>{"Allow", "GET, HEAD"}));
}

}  // namespace
}  // namespace noa::controller::api
