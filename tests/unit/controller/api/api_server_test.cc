// The REST API over real HTTP on 127.0.0.1 (port 0) against a fake StateView.

#include "controller/api/api_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/api/fake_state_view.h"
#include "tests/unit/controller/api/raw_connection.h"

namespace noa::controller {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using noa::testing::kT0;
using noa::testing::makeAgent;
using noa::testing::RawConnection;

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.setAgents({
        makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary"),
        makeAgent("redis-1", "redis", "redis", Liveness::kAlive),
        makeAgent("redis-2", "redis", "redis", Liveness::kLost, "unhealthy"),
    });
    ApiOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.read_timeout = 2s;
    server_ = std::make_unique<ApiServer>(state_, registry_, options, clock_);
    ASSERT_OK(server_->start());
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(5s);
  }

  void TearDown() override { server_->stop(); }

  json getJson(const std::string& path, int expect_status,
               const std::string& expect_type = "application/json") {
    auto res = client_->Get(path.c_str());
    if (!res) {
      ADD_FAILURE() << "GET " << path << ": " << httplib::to_string(res.error());
      return nullptr;
    }
    EXPECT_EQ(res->status, expect_status) << path << ": " << res->body;
    EXPECT_EQ(res->get_header_value("Content-Type"), expect_type) << path;
    json body = json::parse(res->body, nullptr, false);
    EXPECT_FALSE(body.is_discarded()) << res->body;
    return body;
  }

  // A 4xx problem body: checks the shape and returns it.
  json getProblem(const std::string& path, int expect_status) {
    json body = getJson(path, expect_status, "application/problem+json");
    EXPECT_EQ(body["type"], "about:blank");
    EXPECT_EQ(body["status"], expect_status);
    EXPECT_TRUE(body["title"].is_string());
    EXPECT_TRUE(body["detail"].is_string());
    return body;
  }

  prometheus::Registry registry_;
  noa::testing::FakeStateView state_{registry_};
  noa::testing::FakeClock clock_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ApiServerTest, HealthReportsIdentityUptimeStoreAgentsAndLiveness) {
  json h = getJson("/v1/health", 200);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["version"], "0.1.0");
  EXPECT_EQ(h["controller_id"], "ctl-test");
  EXPECT_EQ(h["started_at"], formatRfc3339(fromUnixMillis(kT0 - 3'600'000)));
  EXPECT_EQ(h["uptime_s"], 3600);
  EXPECT_EQ(h["store"], json({{"status", "ok"}}));
  EXPECT_EQ(h["agents"], json({{"total", 3}, {"alive", 2}, {"suspect", 0}, {"lost", 1}}));
  EXPECT_EQ(h["liveness"]["report_interval_ms"], 1000);
  EXPECT_EQ(h["liveness"]["suspect_after_intervals"], 3);
  EXPECT_EQ(h["liveness"]["lost_after_intervals"], 5);
  EXPECT_EQ(h["agent_endpoint"], "tcp://127.0.0.1:7701");

  clock_.advance(90s);
  EXPECT_EQ(getJson("/v1/health", 200)["uptime_s"], 3690);
}

TEST_F(ApiServerTest, StickyStoreErrorMakesHealthDegradedWith503) {
  state_.setStoreHealth(Status::IoError("disk full"));
  json h = getJson("/v1/health", 503);
  EXPECT_EQ(h["status"], "degraded");
  EXPECT_EQ(h["store"]["status"], "error");
  EXPECT_NE(h["store"]["error"].get<std::string>().find("disk full"), std::string::npos);
  EXPECT_EQ(h["agents"]["total"], 3);
}

TEST_F(ApiServerTest, AgentsAreSortedAndFilteredByServiceAndState) {
  json all = getJson("/v1/agents", 200);
  ASSERT_EQ(all["agents"].size(), 3u);
  EXPECT_EQ(all["agents"][0]["id"], "pg-1");
  EXPECT_EQ(all["agents"][2]["id"], "redis-2");
  EXPECT_EQ(all["agents"][0]["last_seq"], 17u);
  EXPECT_EQ(all["agents"][0]["health"]["state"], "healthy");

  json redis = getJson("/v1/agents?service=redis", 200);
  ASSERT_EQ(redis["agents"].size(), 2u);
  json lost = getJson("/v1/agents?service=redis&state=lost", 200);
  ASSERT_EQ(lost["agents"].size(), 1u);
  EXPECT_EQ(lost["agents"][0]["id"], "redis-2");
  EXPECT_EQ(getJson("/v1/agents?service=nothing", 200)["agents"], json::array());

  json bad = getProblem("/v1/agents?state=dead", 400);
  EXPECT_EQ(bad["parameter"], "state");
}

TEST_F(ApiServerTest, OneAgentAndUnknownAgent) {
  json a = getJson("/v1/agents/redis-1", 200);
  EXPECT_EQ(a["id"], "redis-1");
  EXPECT_EQ(a["service"], "redis");
  json missing = getProblem("/v1/agents/nope", 404);
  EXPECT_EQ(missing["title"], "Not Found");
  EXPECT_NE(missing["detail"].get<std::string>().find("nope"), std::string::npos);
}

TEST_F(ApiServerTest, HistoryPassesSinceAndLimitToTheStore) {
  std::vector<HistoryEntry> entries;
  for (uint64_t i = 1; i <= 5; ++i) {
    HistoryEntry e;
    e.ts_ms = kT0 + static_cast<int64_t>(i) * 1000;
    e.seq = i;
    e.report.seq = i;
    e.report.health.state = "healthy";
    entries.push_back(e);
  }
  state_.setHistory("redis-1", entries);

  json all = getJson("/v1/agents/redis-1/history", 200);
  EXPECT_EQ(all["agent"], "redis-1");
  ASSERT_EQ(all["entries"].size(), 5u);
  EXPECT_EQ(all["entries"][0]["seq"], 1u);
  EXPECT_EQ(all["entries"][0]["ts"], formatRfc3339(fromUnixMillis(kT0 + 1000)));
  EXPECT_EQ(all["entries"][0]["report"]["health"]["state"], "healthy");
  EXPECT_EQ(state_.lastHistoryQuery(), (std::pair<int64_t, size_t>{0, 100}));

  json since_ms = getJson("/v1/agents/redis-1/history?since=" + std::to_string(kT0 + 4000), 200);
  EXPECT_EQ(since_ms["entries"].size(), 2u);
  const std::string rfc = formatRfc3339(fromUnixMillis(kT0 + 3000));
  json since_rfc = getJson("/v1/agents/redis-1/history?since=" + rfc + "&limit=2", 200);
  ASSERT_EQ(since_rfc["entries"].size(), 2u);
  EXPECT_EQ(since_rfc["entries"][0]["seq"], 3u);
  EXPECT_EQ(state_.lastHistoryQuery(), (std::pair<int64_t, size_t>{kT0 + 3000, 2}));
  getJson("/v1/agents/redis-1/history?limit=10000", 200);
  // '+' in a query is a space unless encoded.
  getJson("/v1/agents/redis-1/history?since=1970-01-01T01:00:00%2B01:00", 200);
  EXPECT_EQ(state_.lastHistoryQuery().first, 0);
}

TEST_F(ApiServerTest, HistoryRejectsBadParametersAndUnknownAgents) {
  for (const char* limit : {"0", "10001", "abc", "-1", "", "1.5"}) {
    json p = getProblem(std::string("/v1/agents/redis-1/history?limit=") + limit, 400);
    EXPECT_EQ(p["parameter"], "limit") << limit;
    EXPECT_NE(p["detail"].get<std::string>().find("limit"), std::string::npos);
  }
  for (const char* since : {"yesterday", "2026-13-01T00:00:00Z", ""}) {
    json p = getProblem(std::string("/v1/agents/redis-1/history?since=") + since, 400);
    EXPECT_EQ(p["parameter"], "since") << since;
  }
  getProblem("/v1/agents/nope/history", 404);

  state_.setHistoryError(Status::IoError("read failed"));
  getProblem("/v1/agents/redis-1/history", 503);
}

TEST_F(ApiServerTest, ServicesGroupAgents) {
  json s = getJson("/v1/services", 200);
  ASSERT_EQ(s["services"].size(), 2u);
  EXPECT_EQ(s["services"][1]["name"], "redis");
  EXPECT_EQ(s["services"][1]["agents"], 2);
  EXPECT_EQ(s["services"][1]["lost"], 1);
  EXPECT_EQ(s["services"][1]["healthy"], 1);
}

TEST_F(ApiServerTest, OneServiceWithAggregatesAndReplication) {
  AgentRecord primary =
      makeAgent("pg-1", "postgres", "postgres", Liveness::kAlive, "healthy", "primary");
  primary.last_report.attributes = {{"lsn", "0/2000"}};
  AgentRecord replica =
      makeAgent("pg-2", "postgres", "postgres", Liveness::kAlive, "healthy", "replica");
  replica.last_report.attributes = {{"replay_lsn", "0/1000"}};
  state_.setAgents({primary, replica, makeAgent("redis-1", "redis", "redis", Liveness::kAlive)});

  json s = getJson("/v1/services/postgres", 200);
  EXPECT_EQ(s["name"], "postgres");
  EXPECT_EQ(s["agents"], 2);
  EXPECT_EQ(s["ready"], 2);
  EXPECT_EQ(s["replication"]["primary"], "pg-1");
  EXPECT_EQ(s["replication"]["max_lag_bytes"], 0x1000);
  ASSERT_EQ(s["members"].size(), 2u);
  EXPECT_EQ(s["members"][1]["lag_bytes"], 0x1000);
  EXPECT_EQ(s["members"][1]["lag_source"], "computed");
  EXPECT_EQ(s["members"][0]["lag_bytes"], nullptr);
  EXPECT_DOUBLE_EQ(s["metrics"]["memory_bytes"]["sum"].get<double>(), 2 * 1048576.0);

  // The list shows each service the same way.
  json list = getJson("/v1/services", 200);
  ASSERT_EQ(list["services"].size(), 2u);
  EXPECT_EQ(list["services"][0], s);

  json p = getProblem("/v1/services/nope", 404);
  EXPECT_EQ(p["detail"], "no service 'nope'");
  getProblem("/v1/services/", 404);
}

TEST_F(ApiServerTest, MetricSeriesFromHistory) {
  std::vector<HistoryEntry> entries;
  for (uint64_t i = 1; i <= 4; ++i) {
    HistoryEntry e;
    e.ts_ms = kT0 + static_cast<int64_t>(i) * 1000;
    e.seq = i;
    // The third report lacks the metric.
    if (i != 3) e.report.metrics = {{"cpu_usage_cores", 0.1 * static_cast<double>(i)}};
    e.report.metrics.push_back({"other", 7});
    entries.push_back(e);
  }
  state_.setHistory("redis-1", entries);

  json all = getJson("/v1/agents/redis-1/metrics?name=cpu_usage_cores", 200);
  EXPECT_EQ(all["agent"], "redis-1");
  EXPECT_EQ(all["name"], "cpu_usage_cores");
  ASSERT_EQ(all["points"].size(), 3u);
  EXPECT_EQ(all["points"][0]["ts"], formatRfc3339(fromUnixMillis(kT0 + 1000)));
  EXPECT_DOUBLE_EQ(all["points"][0]["value"].get<double>(), 0.1);
  EXPECT_EQ(all["points"][2]["ts"], formatRfc3339(fromUnixMillis(kT0 + 4000)));

  json some = getJson(
      "/v1/agents/redis-1/metrics?name=cpu_usage_cores&limit=2&since=" + std::to_string(kT0 + 2000),
      200);
  EXPECT_EQ(state_.lastHistoryQuery(), (std::pair<int64_t, size_t>{kT0 + 2000, 2}));
  EXPECT_EQ(some["points"].size(), 1u) << "limit counts reports read, not points";
  EXPECT_TRUE(getJson("/v1/agents/redis-1/metrics?name=absent", 200)["points"].empty());

  EXPECT_EQ(getProblem("/v1/agents/redis-1/metrics", 400)["parameter"], "name");
  EXPECT_EQ(getProblem("/v1/agents/redis-1/metrics?name=", 400)["parameter"], "name");
  EXPECT_EQ(getProblem("/v1/agents/redis-1/metrics?name=x&limit=0", 400)["parameter"], "limit");
  EXPECT_EQ(getProblem("/v1/agents/redis-1/metrics?name=x&since=never", 400)["parameter"], "since");
  getProblem("/v1/agents/nope/metrics?name=x", 404);
  state_.setHistoryError(Status::IoError("read failed"));
  getProblem("/v1/agents/redis-1/metrics?name=x", 503);
}

TEST_F(ApiServerTest, UnknownPathWrongMethodHeadAndBodies) {
  getProblem("/v2/agents", 404);
  getProblem("/v1/agents/", 404);

  auto post = client_->Post("/v1/agents", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  EXPECT_EQ(post->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(json::parse(post->body)["status"], 405);

  auto del = client_->Delete("/v1/agents/redis-1");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);

  auto head = client_->Head("/v1/health");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());

  auto big = client_->Post("/v1/agents", std::string(64 * 1024 + 1, 'x'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(big->get_header_value("Content-Type"), "application/problem+json");
  EXPECT_EQ(server_->metricsForTest().rejectedForTest("payload_too_large"), 1);
}

TEST_F(ApiServerTest, MethodsCppHttplibRefusesAreWrongMethodsToo) {
  RawConnection conn(server_->port());
  conn.send("TRACE /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string reply = conn.readResponse();
  EXPECT_EQ(reply.rfind("HTTP/1.1 405", 0), 0u) << reply;
  EXPECT_NE(reply.find("Allow: GET, HEAD"), std::string::npos) << reply;

  // A POST without Content-Length has no body (curl -X POST): answered at once.
  RawConnection post(server_->port());
  post.send("POST /v1/agents HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string post_reply = post.readResponse();
  EXPECT_EQ(post_reply.rfind("HTTP/1.1 405", 0), 0u) << post_reply;

  RawConnection trace_body(server_->port());
  trace_body.send("TRACE /v1/health HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab");
  const std::string trace_body_reply = trace_body.readResponse();
  EXPECT_EQ(trace_body_reply.rfind("HTTP/1.1 405", 0), 0u) << trace_body_reply;
  EXPECT_EQ(server_->metricsForTest().rejectedForTest("method_not_allowed"), 3);

  // A method HTTP does not define at all is not a request cpp-httplib can read.
  RawConnection unknown(server_->port());
  unknown.send("FOO /v1/agents HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string unknown_reply = unknown.readResponse();
  EXPECT_EQ(unknown_reply.rfind("HTTP/1.1 400", 0), 0u) << unknown_reply;
}

TEST_F(ApiServerTest, GarbageGets400IsCountedAndOthersAreStillServed) {
  // A client that sends half a request line and then nothing holds one pool thread only.
  RawConnection stalled(server_->port());
  stalled.send("GET /v1/hea");

  RawConnection garbage(server_->port());
  garbage.send("\x16\x03\x01\x02garbage\r\n\r\n");
  const std::string reply = garbage.readResponse();
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  EXPECT_NE(reply.find("application/problem+json"), std::string::npos) << reply;
  EXPECT_EQ(server_->metricsForTest().rejectedForTest("bad_request"), 1);
  EXPECT_EQ(server_->metricsForTest().requestsForTest("unmatched", 400), 1);

  EXPECT_EQ(getJson("/v1/health", 200)["status"], "ok");
  EXPECT_EQ(getJson("/v1/agents", 200)["agents"].size(), 3u);
}

TEST_F(ApiServerTest, MetricsShowRequestAndRejectionCounters) {
  getJson("/v1/health", 200);
  getJson("/v1/agents/redis-1", 200);
  getProblem("/v1/agents/nope", 404);
  getProblem("/nothing/here", 404);
  auto post = client_->Post("/v1/services", "", "text/plain");
  ASSERT_TRUE(post);

  auto& m = server_->metricsForTest();
  EXPECT_EQ(m.requestsForTest("/v1/health", 200), 1);
  EXPECT_EQ(m.requestsForTest("/v1/agents/{id}", 200), 1);
  EXPECT_EQ(m.requestsForTest("/v1/agents/{id}", 404), 1);
  EXPECT_EQ(m.requestsForTest("unmatched", 404), 1);
  EXPECT_EQ(m.rejectedForTest("not_found"), 2);
  EXPECT_EQ(m.rejectedForTest("method_not_allowed"), 1);

  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  EXPECT_NE(res->body.find("noa_api_requests_total{code=\"200\",route=\"/v1/health\"} 1"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("noa_api_rejected_total{reason=\"not_found\"} 2"), std::string::npos)
      << res->body;
}

TEST(ApiServer, StartFailsWhenThePortIsTakenAndStopIsIdempotent) {
  prometheus::Registry registry1, registry2;
  noa::testing::FakeStateView state(registry1);
  ApiOptions options;
  options.port = 0;
  ApiServer first(state, registry1, options);
  ASSERT_OK(first.start());
  options.port = first.port();
  ApiServer second(state, registry2, options);
  EXPECT_EQ(second.start().code(), StatusCode::kUnavailable);
  first.stop();
  first.stop();
  second.stop();
}

}  // namespace
}  // namespace noa::controller
