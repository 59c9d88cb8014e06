#include "agent/http/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/harness/net.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/http/raw_server.h"

namespace noa::agent {
namespace {

using ::testing::HasSubstr;
using testing::RawServer;
using namespace std::chrono_literals;

TEST(HttpUrl, ParsesWhatAgentsAreGiven) {
  ASSERT_OK_AND_ASSIGN(HttpUrl a, parseHttpUrl("http://127.0.0.1:9187/metrics?x=1#frag"));
  EXPECT_EQ(a.scheme, "http");
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 9187);
  EXPECT_EQ(a.target, "/metrics?x=1");
  ASSERT_OK_AND_ASSIGN(HttpUrl b, parseHttpUrl("HTTPS://kubernetes.default.svc"));
  EXPECT_EQ(b.port, 443);
  EXPECT_EQ(b.target, "/");
  ASSERT_OK_AND_ASSIGN(HttpUrl c, parseHttpUrl("http://[::1]:8080?q"));
  EXPECT_EQ(c.host, "[::1]");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.target, "/?q");
  for (const char* bad : {"ftp://x/", "127.0.0.1:80/", "http://", "http://user@h/",
                          "http://h:0/", "http://h:99999/", "http://h:8a/", "http://[::1/"}) {
    EXPECT_EQ(parseHttpUrl(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HttpClient, ReadsContentLengthChunkedAndUntilClose) {
  RawServer server({"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                    "HTTP/1.0 201 Created\r\nX-Thing: yes\r\n\r\nuntil close"});
  HttpRequest request;
  request.url = server.url("/a");
  ASSERT_OK_AND_ASSIGN(HttpResponse one, httpCall(request, 1024));
  EXPECT_EQ(one.head.status, 200);
  EXPECT_EQ(one.body, "hello");
  EXPECT_EQ(one.head.content_length, 5u);
  ASSERT_OK_AND_ASSIGN(HttpResponse two, httpCall(request, 1024));
  EXPECT_EQ(two.body, "abcde");
  ASSERT_OK_AND_ASSIGN(HttpResponse three, httpCall(request, 1024));
  EXPECT_EQ(three.head.status, 201);
  EXPECT_EQ(three.head.header("x-thing"), "yes");
  EXPECT_EQ(three.body, "until close");
}

TEST(HttpClient, CapsTheBodyAndStopsWhenAsked) {
  const std::string big(100000, 'x');
  RawServer server({"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + big});
  HttpRequest request;
  request.url = server.url("/big");
  Result<HttpResponse> capped = httpCall(request, 1000);
  EXPECT_EQ(capped.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(capped.status().message(), HasSubstr("larger than 1000 bytes"));
  std::size_t seen = 0;
  ASSERT_OK_AND_ASSIGN(HttpExchange stopped,
                       httpExchange(request, {nullptr, [&](const char*, std::size_t n) {
                                                seen += n;
                                                return false;
                                              }}));
  EXPECT_FALSE(stopped.complete);
  EXPECT_GT(seen, 0u);
}

TEST(HttpClient, RefusedSilentAndGarbledPeersAreClearErrors) {
  HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(noa::testing::freePort()) + "/x?token=s3";
  Result<HttpResponse> refused = httpCall(request, 1024);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(refused.status().message(), HasSubstr("Connection refused"));
  EXPECT_THAT(refused.status().message(), ::testing::Not(HasSubstr("s3")));

  RawServer silent({""});
  request.url = silent.url("/slow");
  request.io_timeout = 200ms;
  const auto began = std::chrono::steady_clock::now();
  Result<HttpResponse> slow = httpCall(request, 1024);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  EXPECT_EQ(slow.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(slow.status().message(), HasSubstr("/slow: timed out after"));

  RawServer garbage({"SSH-2.0-OpenSSH_9.2\r\n\r\n"});
  request.url = garbage.url("/");
  Result<HttpResponse> bad = httpCall(request, 1024);
  EXPECT_EQ(bad.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(bad.status().message(), HasSubstr("not a valid HTTP answer"));
}

TEST(HttpClient, TotalTimeoutCutsATrickle) {
  // Headers at once, then a body that never completes.
  RawServer trickle({"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial", ""});
  HttpRequest request;
  request.url = trickle.url("/");
  request.total_timeout = 300ms;
  Result<HttpResponse> r = httpCall(request, 4096);
  // The server closes after "partial": a clear "closed before complete" (not a hang).
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("closed before the body was complete"));
}

TEST(HttpClient, FollowsRedirectsOnlyWhenAskedAndSays303MeansGet) {
  RawServer target({"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"});
  RawServer redirect({"HTTP/1.1 303 See Other\r\nLocation: " + target.url("/there") +
                      "\r\nContent-Length: 0\r\n\r\n"});
  HttpRequest request;
  request.method = "POST";
  request.body = "{}";
  request.url = redirect.url("/here");
  ASSERT_OK_AND_ASSIGN(HttpResponse not_followed, httpCall(request, 1024));
  EXPECT_EQ(not_followed.head.status, 303);
  request.max_redirects = 2;
  ASSERT_OK_AND_ASSIGN(HttpExchange followed, httpExchange(request, {}));
  EXPECT_EQ(followed.head.status, 200);
  EXPECT_EQ(followed.final_url, target.url("/there"));
}

TEST(HttpClient, UnknownMethodIsRefusedBeforeConnecting) {
  HttpRequest request;
  request.method = "BREW";
  request.url = "http://127.0.0.1:1/";
  EXPECT_EQ(httpCall(request, 10).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace noa::agent
