#include "agent/http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>

#include "agent/http/http_client.h"
#include "agent/http/tcp_connect.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpRoutes routes;
    routes["/health"] = [] { return HttpReply{200, "application/json", "{\"status\":\"ok\"}"}; };
    routes["/down"] = [] { return HttpReply{503, "text/plain", "no\n"}; };
    server_ = std::make_unique<HttpServer>(std::move(routes),
                                           HttpServerLimits{.max_connections = 2,
                                                            .io_timeout = 1000ms});
    ASSERT_OK(server_->start("127.0.0.1", 0));
    ASSERT_GT(server_->port(), 0);
  }
  Result<HttpResponse> call(const std::string& method, const std::string& path) {
    HttpRequest request;
    request.method = method;
    request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + path;
    return httpCall(request, 4096);
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, ServesRoutesAndRefusesTheRest) {
  ASSERT_OK_AND_ASSIGN(HttpResponse ok, call("GET", "/health?verbose=1"));
  EXPECT_EQ(ok.head.status, 200);
  EXPECT_EQ(ok.head.header("Content-Type"), "application/json");
  EXPECT_EQ(ok.body, "{\"status\":\"ok\"}");
  ASSERT_OK_AND_ASSIGN(HttpResponse down, call("GET", "/down"));
  EXPECT_EQ(down.head.status, 503);
  ASSERT_OK_AND_ASSIGN(HttpResponse head, call("HEAD", "/health"));
  EXPECT_EQ(head.head.status, 200);
  EXPECT_EQ(head.body, "");
  ASSERT_OK_AND_ASSIGN(HttpResponse missing, call("GET", "/nope"));
  EXPECT_EQ(missing.head.status, 404);
  ASSERT_OK_AND_ASSIGN(HttpResponse post, call("POST", "/health"));
  EXPECT_EQ(post.head.status, 405);
  EXPECT_EQ(post.head.header("Allow"), "GET, HEAD");
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(server_->port()) + "/health";
  request.headers.emplace_back("X-Big", std::string(10000, 'a'));
  ASSERT_OK_AND_ASSIGN(HttpResponse r, httpCall(request, 4096));
  EXPECT_EQ(r.head.status, 431);
}

TEST_F(HttpServerTest, SlowClientsAreBoundedAndDoNotStarveTheRest) {
  // Two clients connect and send nothing: they hold both connection slots until io_timeout.
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  ASSERT_OK_AND_ASSIGN(int a, connectTcp("127.0.0.1", server_->port(), deadline));
  ASSERT_OK_AND_ASSIGN(int b, connectTcp("127.0.0.1", server_->port(), deadline));
  std::this_thread::sleep_for(100ms);
  // A third is told at once that the server is busy, not left waiting.
  ASSERT_OK_AND_ASSIGN(HttpResponse busy, call("GET", "/health"));
  EXPECT_EQ(busy.head.status, 503);
  // After io_timeout the slow ones are dropped and service resumes.
  std::this_thread::sleep_for(1200ms);
  ASSERT_OK_AND_ASSIGN(HttpResponse ok, call("GET", "/health"));
  EXPECT_EQ(ok.head.status, 200);
  ::close(a);
  ::close(b);
}

TEST_F(HttpServerTest, StopReturnsAndTheSecondBindOfAPortFails) {
  HttpServer other({});
  EXPECT_EQ(other.start("127.0.0.1", server_->port()).code(), StatusCode::kUnavailable);
  server_->stop();
  EXPECT_FALSE(call("GET", "/health").ok());
}

}  // namespace
}  // namespace noa::agent
