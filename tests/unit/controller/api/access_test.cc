// The role x route matrix, generated from the route table: every route is called without a
// token, with a bad one, with an expired JWT and as viewer, operator and admin, and must answer
// 401 / 403 / its handler's answer as its role says. A new route is covered without a new test.

#include "controller/api/access.h"

#include <gtest/gtest.h>

#include <regex>

#include "controller/api/auth/rate_limiter.h"
#include "controller/api/problem.h"
#include "controller/api/routes.h"
#include "tests/testing/fake_clock.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::controller::api {
namespace {

using nlohmann::json;

struct Credential {
  const char* name;
  std::string header;
  std::optional<Role> role;  // nullopt = not a valid token
};

std::string concretePath(std::string_view pattern) {
  return std::regex_replace(std::string(pattern), std::regex("\\{[^}]+\\}"), "x");
}

class AccessMatrixTest : public ::testing::Test {
 protected:
  std::vector<Credential> credentials() const {
    const int64_t now_s = toUnixMillis(clock_.wallNow()) / 1000;
    json expired = noa::testing::claimsFor("a", "admin", now_s - 3600);
    return {
        {"no token", "", std::nullopt},
        {"bad token", "Bearer not-a-token", std::nullopt},
        {"expired JWT",
         "Bearer " + noa::testing::signJwt(JWT_ALG_HS256, noa::testing::kHsSecret, expired),
         std::nullopt},
        {"alg none JWT",
         "Bearer " + noa::testing::unsignedJwt(noa::testing::claimsFor("a", "admin", now_s)),
         std::nullopt},
        {"viewer", "Bearer viewer-token", Role::kViewer},
        {"operator", "Bearer operator-token", Role::kOperator},
        {"admin", "Bearer admin-token", Role::kAdmin},
        {"admin JWT",
         "Bearer " + noa::testing::signJwt(JWT_ALG_HS256, noa::testing::kHsSecret,
                                           noa::testing::claimsFor("ci", "admin", now_s)),
         Role::kAdmin},
    };
  }

  prometheus::Registry registry_;
  noa::testing::FakeStateView state_{registry_};
  noa::testing::FakeClock clock_;
  std::shared_ptr<Authenticator> auth_ = noa::testing::makeTestAuthenticator();
};

TEST_F(AccessMatrixTest, EveryRouteAnswersEveryCredentialAsItsRoleSays) {
  const ApiContext context{state_, clock_, auth_.get(), nullptr};
  ASSERT_FALSE(routeTable().empty());
  for (const Route& route : routeTable()) {
    for (const Credential& cred : credentials()) {
      ApiRequest request;
      request.method = std::string(route.method);
      request.path = concretePath(route.path);
      request.authorization = cred.header;
      const Dispatched done = dispatchRequest(context, request);
      const std::string where =
          std::string(route.method) + " " + std::string(route.path) + " as " + cred.name;
      ASSERT_EQ(done.route, &route) << where;
      const int status = done.response.status;
      if (route.role == Role::kPublic) {
        EXPECT_NE(status, 401) << where;
        EXPECT_NE(status, 403) << where;
      } else if (!cred.role) {
        EXPECT_EQ(status, 401) << where;
        EXPECT_EQ(done.response.content_type, kProblemContentType) << where;
        ASSERT_EQ(done.response.headers.size(), 1u) << where;
        EXPECT_EQ(done.response.headers[0].first, "WWW-Authenticate") << where;
        EXPECT_EQ(done.response.headers[0].second.rfind("Bearer realm=\"noa\"", 0), 0u) << where;
        EXPECT_EQ(done.caller.actor, "anonymous") << where;
      } else if (*cred.role < route.role) {
        EXPECT_EQ(status, 403) << where;
        EXPECT_EQ(done.response.content_type, kProblemContentType) << where;
        const std::string detail = json::parse(done.response.body)["detail"];
        EXPECT_NE(detail.find("needs the " + std::string(roleName(route.role)) + " role"),
                  std::string::npos)
            << detail;
      } else {
        EXPECT_NE(status, 401) << where;
        EXPECT_NE(status, 403) << where;
        EXPECT_EQ(done.caller.role, *cred.role) << where;
      }
      // Never echo a token.
      const std::string token = cred.header.size() > 7 ? cred.header.substr(7) : "";
      if (!token.empty()) {
        EXPECT_EQ(done.response.body.find(token), std::string::npos) << where;
      }
    }
  }
}

TEST(RouteRoles, MutatingRoutesNeedOperatorAndOnlyProbesArePublic) {
  for (const Route& route : routeTable()) {
    if (route.mutates()) {
      EXPECT_GE(route.role, Role::kOperator) << route.method << " " << route.path;
    }
    const bool probe = route.path == "/v1/health" || route.path == "/metrics";
    EXPECT_EQ(route.role == Role::kPublic, probe) << route.path;
  }
}

TEST(Access, AuthNoneMakesEveryCallerAnAnonymousAdmin) {
  prometheus::Registry registry;
  noa::testing::FakeStateView state(registry);
  noa::testing::FakeClock clock;
  const ApiContext context{state, clock};
  const Dispatched done = dispatchRequest(context, {"GET", "/v1/agents", {}, {}});
  EXPECT_EQ(done.response.status, 200);
  EXPECT_EQ(done.caller.actor, "anonymous");
  EXPECT_EQ(done.caller.role, Role::kAdmin);
  EXPECT_EQ(done.caller.kind, AuthKind::kNone);
}

ApiResponse echoCaller(const ApiContext&, const ApiRequest& request) {
  return jsonResponse(200, {{"actor", request.caller.actor},
                            {"role", roleName(request.caller.role)},
                            {"body", request.body}});
}

constexpr Route kTestRoutes[] = {
    {"POST", "/v1/things/{id}/poke", Role::kOperator, "poke", &echoCaller},
};

TEST(Access, HandlersSeeTheCallerAndTheBodyAndMutationsAreRateLimited) {
  prometheus::Registry registry;
  noa::testing::FakeStateView state(registry);
  noa::testing::FakeClock clock;
  auto auth = noa::testing::makeTestAuthenticator();
  RateLimiter limiter({1, 2, 10}, clock);
  const ApiContext context{state, clock, auth.get(), &limiter};
  ApiRequest request{"POST", "/v1/things/1/poke", {}, {}};
  request.body = "{\"x\":1}";
  request.authorization = "Bearer operator-token";
  for (int i = 0; i < 2; ++i) {
    const Dispatched ok = dispatchRequest(context, request, kTestRoutes);
    ASSERT_EQ(ok.response.status, 200);
    EXPECT_EQ(json::parse(ok.response.body),
              json({{"actor", "o"}, {"role", "operator"}, {"body", "{\"x\":1}"}}));
  }
  const Dispatched limited = dispatchRequest(context, request, kTestRoutes);
  EXPECT_EQ(limited.response.status, 429);
  EXPECT_EQ(limited.response.content_type, kProblemContentType);
  ASSERT_EQ(limited.response.headers.size(), 1u);
  EXPECT_EQ(limited.response.headers[0], (std::pair<std::string, std::string>{"Retry-After", "1"}));
  request.authorization = "Bearer admin-token";
  EXPECT_EQ(dispatchRequest(context, request, kTestRoutes).response.status, 200)
      << "another actor has its own bucket";
  clock.advance(std::chrono::seconds(1));
  request.authorization = "Bearer operator-token";
  EXPECT_EQ(dispatchRequest(context, request, kTestRoutes).response.status, 200);
  // Reads are never rate limited.
  request = {"GET", "/v1/agents", {}, {}};
  request.authorization = "Bearer viewer-token";
  for (int i = 0; i < 50; ++i) ASSERT_EQ(dispatchRequest(context, request).response.status, 200);
}

}  // namespace
}  // namespace noa::controller::api
