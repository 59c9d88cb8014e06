// The collectors against real things: an HTTP server in this process serving good, malformed,
// slow and oversized Prometheus answers, and real child processes for the process tree.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "agent/collectors/metrics_collector.h"
#include "agent/collectors/proc_collector.h"
#include "agent/collectors/prom_scraper.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent {
namespace {

using ::testing::Contains;
using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Key;
using namespace std::chrono_literals;

template <class Metrics>
std::map<std::string, double> asMap(const Metrics& metrics) {
  std::map<std::string, double> out;
  for (const auto& m : metrics) out[m.name] = m.value;
  return out;
}

// A Prometheus endpoint with one route per behaviour. Slow handlers give up as soon as the
// test ends, so the server always stops promptly.
class FakeExporter {
 public:
  FakeExporter() {
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      const int total = requests_ += 10;
      res.set_content(
          "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n"
          "http_requests_total{code=\"200\"} " +
              std::to_string(total) +
              "\n"
              "http_requests_total{code=\"500\"} 1\n"
              "# TYPE connections gauge\nconnections{state=\"idle\"} 3\n"
              "connections{state=\"active\"} 2\nignored_metric 1\n",
          "text/plain; version=0.0.4");
    });
    server_.Get("/malformed", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("connections 4\nbroken{ 1\nalso broken\n", "text/plain");
    });
    server_.Get("/garbage", [](const httplib::Request&, httplib::Response& res) {
      std::string junk = "<html>oops</html>\n";
      for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 37) % 256));
      res.set_content(junk, "application/octet-stream");
    });
    server_.Get("/error", [](const httplib::Request&, httplib::Response& res) {
      res.status = 500;
      res.set_content("internal error\n", "text/plain");
    });
    server_.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      std::string body;
      while (body.size() < 2 * 1024 * 1024) body += "filler_metric_with_a_long_name 1\n";
      res.set_content(body, "text/plain");
    });
    server_.Get("/hang", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, 10s, [this] { return stopping_; });
      res.set_content("late 1\n", "text/plain");
    });
    server_.Get("/trickle", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [this](size_t, httplib::DataSink& sink) {
        std::unique_lock<std::mutex> lock(mu_);
        if (cv_.wait_for(lock, 50ms, [this] { return stopping_; })) return false;
        const std::string line = "trickle 1\n";
        return sink.write(line.data(), line.size());
      });
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    noa::testing::waitUntil([this] { return server_.is_running(); }, 5s);
  }
  ~FakeExporter() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

PromScraper makeScraper(const std::string& url, const Clock& clock, Millis timeout = 2000ms,
                        PromSelection selection = {}) {
  Result<PromScraper> s = PromScraper::create(
      {.url = url, .timeout = timeout, .max_body_bytes = 1024 * 1024, .selection = selection},
      clock);
  EXPECT_OK(s);
  return std::move(s).value();
}

TEST(PromScrape, CountersBecomeRatesAndGaugesAreSummed) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(exporter.url("/metrics"), clock, 2000ms,
                                    {.allowlist = {"http_requests_total", "connections"}});
  SourceReading first = scraper.scrape();
  EXPECT_OK(first.status);
  EXPECT_EQ(asMap(first.metrics), (std::map<std::string, double>{{"connections", 5}}));
  clock.advance(2s);
  SourceReading second = scraper.scrape();
  EXPECT_OK(second.status);
  EXPECT_EQ(asMap(second.metrics),
            (std::map<std::string, double>{{"connections", 5}, {"http_requests_per_second", 5}}));
  EXPECT_EQ(scraper.stats().scrapes, 2u);
  EXPECT_EQ(scraper.stats().failures, 0u);
}

TEST(PromScrape, PathDefaultsToMetrics) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(exporter.url(""), clock);
  EXPECT_OK(scraper.scrape().status);
}

TEST(PromScrape, MalformedLinesAreSkippedCountedAndReported) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(exporter.url("/malformed"), clock);
  const SourceReading r = scraper.scrape();
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status.message(), HasSubstr("skipped 2 malformed lines, first line 2: "));
  EXPECT_EQ(asMap(r.metrics), (std::map<std::string, double>{{"connections", 4}}));
  EXPECT_EQ(scraper.stats().skipped_lines, 2u);
  EXPECT_EQ(scraper.stats().failures, 0u);
}

TEST(PromScrape, GarbageIsAFailureNotACrash) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(exporter.url("/garbage"), clock);
  const SourceReading r = scraper.scrape();
  EXPECT_THAT(r.status.message(), HasSubstr("not Prometheus text"));
  EXPECT_THAT(r.metrics, IsEmpty());
  EXPECT_EQ(scraper.stats().failures, 1u);
  EXPECT_GT(scraper.stats().skipped_lines, 0u);
}

TEST(PromScrape, HttpErrorStatusIsAFailure) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(exporter.url("/error?token=secret"), clock);
  const SourceReading r = scraper.scrape();
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  // The query string may hold a credential: it stays out of messages.
  EXPECT_EQ(r.status.message(), exporter.url("/error") + ": HTTP 500");
}

TEST(PromScrape, AllowlistThatMatchesNothingIsReported) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper =
      makeScraper(exporter.url("/metrics"), clock, 2000ms, {.allowlist = {"http_request_total"}});
  const SourceReading r = scraper.scrape();
  EXPECT_EQ(r.status.code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status.message(), HasSubstr("serves none of the allowlisted metrics"));
  EXPECT_THAT(r.metrics, IsEmpty());
}

TEST(PromScrape, OversizedAnswerIsRefused) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(exporter.url("/big"), clock);
  const SourceReading r = scraper.scrape();
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(r.metrics, IsEmpty());
}

TEST(PromScrape, HangingEndpointTimesOut) {
  FakeExporter exporter;
  PromScraper scraper = makeScraper(exporter.url("/hang"), systemClock(), 300ms);
  const auto start = std::chrono::steady_clock::now();
  const SourceReading r = scraper.scrape();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded) << r.status.toString();
  EXPECT_THAT(r.status.message(), HasSubstr("timed out after"));
  EXPECT_LT(took, 2s);
  EXPECT_GE(took, 250ms);
}

TEST(PromScrape, TricklingEndpointIsCutOffAtTheDeadline) {
  FakeExporter exporter;
  PromScraper scraper = makeScraper(exporter.url("/trickle"), systemClock(), 300ms);
  const auto start = std::chrono::steady_clock::now();
  const SourceReading r = scraper.scrape();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status.code(), StatusCode::kDeadlineExceeded) << r.status.toString();
  EXPECT_LT(took, 2s);
}

TEST(PromScrape, NothingListeningIsAFailure) {
  noa::testing::FakeClock clock;
  PromScraper scraper = makeScraper(
      "http://127.0.0.1:" + std::to_string(noa::testing::freePort()) + "/metrics", clock, 500ms);
  const SourceReading r = scraper.scrape();
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status.message(), HasSubstr("Connection refused"));
}

int processCount(ProcCollector& collector) {
  const SourceReading r = collector.collect();
  const auto m = asMap(r.metrics);
  return m.contains("process_count") ? static_cast<int>(m.at("process_count")) : -1;
}

TEST(ProcTree, CountsALiveChildTreeAndReportsItGone) {
  noa::testing::TempDir dir;
  auto child = noa::testing::ChildProcess::start({"/bin/sh", "-c", "sleep 30 & sleep 30 & wait"},
                                                 dir.path() + "/child.log");
  ASSERT_OK(child);
  noa::testing::FakeClock clock;
  Result<ProcCollector> collector = ProcCollector::create({.pid = (*child)->pid()}, clock);
  ASSERT_OK(collector);
  EXPECT_TRUE(noa::testing::waitUntil([&] { return processCount(*collector) == 3; }, 5s))
      << "process_count " << processCount(*collector);
  clock.advance(1s);
  const SourceReading live = collector->collect();
  EXPECT_OK(live.status);
  EXPECT_THAT(asMap(live.metrics), Contains(Key("cpu_usage_cores")));
  EXPECT_GT(asMap(live.metrics).at("memory_bytes"), 0);

  const pid_t pid = (*child)->pid();
  (*child)->kill9();  // reaps it
  const SourceReading gone = collector->collect();
  EXPECT_EQ(gone.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(gone.status.message(), "pid " + std::to_string(pid) + ": not found");
  EXPECT_THAT(gone.metrics, IsEmpty());
}

TEST(ProcTree, FollowsAPidfileAcrossARestart) {
  noa::testing::TempDir dir;
  const std::string pidfile = dir.path() + "/svc.pid";
  noa::testing::FakeClock clock;
  Result<ProcCollector> collector = ProcCollector::create({.pidfile = pidfile}, clock);
  ASSERT_OK(collector);
  EXPECT_EQ(collector->collect().status.message(), pidfile + ": not found");

  for (int run = 0; run < 2; ++run) {
    auto child = noa::testing::ChildProcess::start({"sleep", "30"}, dir.path() + "/child.log");
    ASSERT_OK(child);
    FILE* f = std::fopen(pidfile.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fprintf(f, "%d\n", (*child)->pid());
    std::fclose(f);
    const SourceReading r = collector->collect();
    EXPECT_OK(r.status);
    EXPECT_EQ(asMap(r.metrics).at("process_count"), 1);
    (*child)->kill9();
  }
}

TEST(MetricsCollectorLive, CombinesTheProcessTreeAndTheEndpoint) {
  FakeExporter exporter;
  noa::testing::FakeClock clock;
  MetricsConfig config;
  config.pid = ::getpid();
  config.prometheus.url = exporter.url("/metrics");
  config.prometheus.selection.allowlist = {"http_requests_total"};
  auto collector = MetricsCollector::create(config, clock);
  ASSERT_OK(collector);
  (*collector)->collect();
  clock.advance(1s);
  const Collection c = (*collector)->collect();
  EXPECT_THAT(c.degraded, IsEmpty());
  const auto m = asMap(c.metrics);
  EXPECT_THAT(m, Contains(Key("cpu_usage_cores")));
  EXPECT_THAT(m, Contains(Key("memory_bytes")));
  EXPECT_THAT(m.at("http_requests_per_second"), DoubleNear(10, 1e-9));
}

}  // namespace
}  // namespace noa::agent
