// REST security over real HTTP on 127.0.0.1: bearer tokens, the audit hook for mutating routes
// (with test routes: the production table has no mutating route yet), the rate limit and the
// request limits (body, headers, slow clients).

#include <gtest/gtest.h>
#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "controller/api/api_server.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/raw_connection.h"
#include "tests/unit/controller/api/test_tokens.h"

namespace noa::controller {
namespace {

using namespace std::chrono_literals;
using api::AuditEntry;
using api::Role;
using api::Route;
using nlohmann::json;
using noa::testing::RawConnection;

class RecordingSink final : public api::AuditSink {
 public:
  void record(const AuditEntry& entry) override {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(entry);
  }
  std::vector<AuditEntry> entries() {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_;
  }

 private:
  std::mutex mu_;
  std::vector<AuditEntry> entries_;
};

api::ApiResponse pokeHandler(const api::ApiContext&, const api::ApiRequest& request) {
  return api::jsonResponse(200, {{"poked", request.path_params.at("id")},
                                 {"by", request.caller.actor},
                                 {"bytes", request.body.size()}});
}
api::ApiResponse listHandler(const api::ApiContext&, const api::ApiRequest&) {
  return api::jsonResponse(200, {{"things", json::array()}});
}

constexpr Route kRoutes[] = {
    {"GET", "/v1/health", Role::kPublic, "health", &listHandler},
    {"GET", "/v1/things", Role::kViewer, "list", &listHandler},
    {"POST", "/v1/things/{id}/poke", Role::kOperator, "poke", &pokeHandler},
    {"POST", "/v1/things/{id}/burn", Role::kAdmin, "burn", &pokeHandler},
};

class ApiSecurityTest : public ::testing::Test {
 protected:
  void start(ApiOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.authenticator = noa::testing::makeTestAuthenticator();
    options.audit = &sink_;
    options.routes = kRoutes;
    if (options.read_timeout == 5000ms) options.read_timeout = 2s;
    server_ = std::make_unique<ApiServer>(state_, registry_, options, clock_);
    ASSERT_OK(server_->start());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(5s);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  httplib::Result post(const std::string& path, const std::string& token,
                       const std::string& body = "{}") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Post(path.c_str(), headers, body, "application/json");
  }

  prometheus::Registry registry_;
  noa::testing::FakeStateView state_{registry_};
  noa::testing::FakeClock clock_;
  RecordingSink sink_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiSecurityTest, TokensAreCheckedOverHttpAndNeverEchoed) {
  start();
  auto open = client_->Get("/v1/health");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 200);

  auto anonymous = client_->Get("/v1/things");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), "Bearer realm=\"noa\"");
  EXPECT_EQ(anonymous->get_header_value("Content-Type"), "application/problem+json");

  auto bad = client_->Get("/v1/things", {{"Authorization", "Bearer sekrit-guess"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(bad->get_header_value("WWW-Authenticate"),
            "Bearer realm=\"noa\", error=\"invalid_token\"");
  EXPECT_EQ(bad->body.find("sekrit-guess"), std::string::npos);

  auto viewer = client_->Get("/v1/things", {{"Authorization", "Bearer viewer-token"}});
  ASSERT_TRUE(viewer);
  EXPECT_EQ(viewer->status, 200);
  EXPECT_EQ(server_->metricsForTest().rejectedForTest("unauthorized"), 2);
  EXPECT_TRUE(sink_.entries().empty()) << "reads are not audited";
}

TEST_F(ApiSecurityTest, EveryCallToAMutatingRouteIsAuditedWhateverTheAnswer) {
  start();
  ASSERT_EQ(post("/v1/things/7/poke", "")->status, 401);
  ASSERT_EQ(post("/v1/things/7/poke", "viewer-token")->status, 403);
  auto ok = post("/v1/things/7/poke", "operator-token", "{\"secret-body\":1}");
  ASSERT_EQ(ok->status, 200);
  EXPECT_EQ(json::parse(ok->body), json({{"poked", "7"}, {"by", "o"}, {"bytes", 17}}));
  ASSERT_EQ(post("/v1/things/7/burn", "operator-token")->status, 403);
  ASSERT_EQ(post("/v1/things/7/poke", "operator-token", std::string(64 * 1024 + 1, 'x'))->status,
            413);
  ASSERT_EQ(post("/v1/things/7/nothing", "operator-token")->status, 404);

  const auto entries = sink_.entries();
  ASSERT_EQ(entries.size(), 5u) << "404s have no route to audit";
  EXPECT_EQ(entries[0].actor, "anonymous");
  EXPECT_EQ(entries[0].role, "public");
  EXPECT_EQ(entries[0].status, 401);
  EXPECT_EQ(entries[1].actor, "v");
  EXPECT_EQ(entries[1].role, "viewer");
  EXPECT_EQ(entries[1].status, 403);
  EXPECT_NE(entries[1].detail.find("needs the operator role"), std::string::npos);
  EXPECT_EQ(entries[2].actor, "o");
  EXPECT_EQ(entries[2].role, "operator");
  EXPECT_EQ(entries[2].method, "POST");
  EXPECT_EQ(entries[2].path, "/v1/things/7/poke");
  EXPECT_EQ(entries[2].route, "/v1/things/{id}/poke");
  EXPECT_EQ(entries[2].status, 200);
  EXPECT_EQ(entries[2].detail, "");
  EXPECT_EQ(entries[2].remote, "127.0.0.1");
  EXPECT_EQ(entries[2].ts_ms, noa::testing::kT0);
  EXPECT_EQ(entries[3].route, "/v1/things/{id}/burn");
  EXPECT_EQ(entries[4].status, 413);
  EXPECT_EQ(entries[4].actor, "anonymous") << "refused before the token was read";
  for (const AuditEntry& e : entries) {
    for (const std::string& field : {e.actor, e.detail, e.path, e.role}) {
      EXPECT_EQ(field.find("operator-token"), std::string::npos);
      EXPECT_EQ(field.find("secret-body"), std::string::npos);
    }
  }
}

TEST_F(ApiSecurityTest, MutationsAreRateLimitedPerActorWith429AndRetryAfter) {
  ApiOptions options;
  options.rate_limit = api::RateLimit{1, 3, 100};
  start(options);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(post("/v1/things/1/poke", "operator-token")->status, 200);
  auto limited = post("/v1/things/1/poke", "operator-token");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->get_header_value("Retry-After"), "1");
  EXPECT_EQ(limited->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(post("/v1/things/1/poke", "admin-token")->status, 200);
  EXPECT_EQ(sink_.entries().back().status, 200);
  EXPECT_EQ(sink_.entries()[3].status, 429);
  clock_.advance(1s);
  EXPECT_EQ(post("/v1/things/1/poke", "operator-token")->status, 200);
  EXPECT_EQ(server_->metricsForTest().rejectedForTest("rate_limited"), 1);
}

TEST_F(ApiSecurityTest, OversizedHeadersGet431) {
  ApiOptions options;
  options.max_header_bytes = 2048;
  start(options);
  httplib::Headers headers = {{"Authorization", "Bearer viewer-token"}};
  for (int i = 0; i < 4; ++i) headers.emplace("X-Pad-" + std::to_string(i), std::string(600, 'p'));
  auto big = client_->Get("/v1/things", headers);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 431);
  EXPECT_EQ(big->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(server_->metricsForTest().rejectedForTest("headers_too_large"), 1);
  auto fine = client_->Get("/v1/things", {{"Authorization", "Bearer viewer-token"}});
  ASSERT_TRUE(fine);
  EXPECT_EQ(fine->status, 200);
}

TEST_F(ApiSecurityTest, ASlowClientIsCutOffAndDoesNotBlockOthers) {
  ApiOptions options;
  options.read_timeout = 300ms;
  options.threads = 2;
  start(options);
  RawConnection slow_headers(server_->port());
  slow_headers.send("GET /v1/things HTTP/1.1\r\nHost: x\r\nAuthorization: Bea");
  RawConnection slow_body(server_->port());
  slow_body.send(
      "POST /v1/things/1/poke HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer operator-token\r\n"
      "Content-Length: 100\r\n\r\n{\"partial\":");
  // Both pool threads are busy with the slow clients until their read timeout; a third client
  // is served as soon as one of them is cut off.
  const auto started = std::chrono::steady_clock::now();
  auto res = client_->Get("/v1/things", {{"Authorization", "Bearer viewer-token"}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
  // cpp-httplib answers a request it could not read in time with 400 (it cannot tell a timeout
  // from garbage), then closes.
  for (RawConnection* slow : {&slow_headers, &slow_body}) {
    const std::string reply = slow->readResponse(3s);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
    slow->readResponse(3s);
    EXPECT_TRUE(slow->closed());
  }
  EXPECT_EQ(server_->metricsForTest().requestsForTest("/v1/things/{id}/poke", 200), 0);
}

TEST(ApiServerTls, RefusesMissingOrBadCertificateFiles) {
  prometheus::Registry registry;
  noa::testing::FakeStateView state(registry);
  ApiOptions options;
  options.port = 0;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  ApiServer server(state, registry, options);
  const Status started = server.start();
  EXPECT_EQ(started.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(started.message().find("/nonexistent/cert.pem"), std::string::npos);
  options.tls_key_file.clear();
  ApiServer half(state, registry, options);
  EXPECT_EQ(half.start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace noa::controller
