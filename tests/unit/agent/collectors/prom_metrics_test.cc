#include "agent/collectors/prom_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include "agent/collectors/prom_text.h"
#include "tests/testing/fake_clock.h"

namespace noa::agent {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Key;
using ::testing::Pair;
using namespace std::chrono_literals;

std::map<std::string, double> asMap(const PromMetrics::Derived& d) {
  std::map<std::string, double> out;
  for (const auto& m : d.metrics) out[m.name] = m.value;
  return out;
}

class PromMetricsTest : public ::testing::Test {
 protected:
  PromMetrics::Derived derive(PromMetrics& m, const std::string& text) {
    return m.derive(parsePromText(text).samples, clock_.now());
  }
  noa::testing::FakeClock clock_;
};

TEST_F(PromMetricsTest, CounterBecomesARateFromTheSecondScrape) {
  PromMetrics m({});
  const std::string type = "# TYPE http_requests_total counter\n";
  EXPECT_THAT(derive(m, type + "http_requests_total 100\n").metrics, IsEmpty());
  clock_.advance(10s);
  EXPECT_THAT(asMap(derive(m, type + "http_requests_total 150\n")),
              ElementsAre(Pair("http_requests_per_second", 5.0)));
  clock_.advance(5s);
  EXPECT_THAT(asMap(derive(m, type + "http_requests_total 150\n")),
              ElementsAre(Pair("http_requests_per_second", 0.0)));
}

TEST_F(PromMetricsTest, LabelledCounterRatesAreSummedWhateverTheLabelOrder) {
  PromMetrics m({});
  const std::string type = "# TYPE req_total counter\n";
  derive(m, type + "req_total{a=\"1\",b=\"x\"} 10\nreq_total{a=\"2\",b=\"x\"} 20\n");
  clock_.advance(2s);
  EXPECT_THAT(
      asMap(derive(m, type + "req_total{b=\"x\",a=\"1\"} 14\nreq_total{a=\"2\",b=\"x\"} 30\n")),
      ElementsAre(Pair("req_per_second", 7.0)));
}

TEST_F(PromMetricsTest, CounterResetGivesNoRateForThatScrapeOnly) {
  PromMetrics m({});
  const std::string type = "# TYPE c_total counter\n";
  derive(m, type + "c_total 500\n");
  clock_.advance(1s);
  EXPECT_THAT(derive(m, type + "c_total 3\n").metrics, IsEmpty());  // service restarted
  clock_.advance(1s);
  EXPECT_THAT(asMap(derive(m, type + "c_total 9\n")), ElementsAre(Pair("c_per_second", 6.0)));
}

TEST_F(PromMetricsTest, ANewSeriesJoinsTheSumOnceItHasARate) {
  PromMetrics m({});
  const std::string type = "# TYPE c_total counter\n";
  derive(m, type + "c_total{x=\"a\"} 0\n");
  clock_.advance(1s);
  EXPECT_THAT(asMap(derive(m, type + "c_total{x=\"a\"} 1\nc_total{x=\"b\"} 1000\n")),
              ElementsAre(Pair("c_per_second", 1.0)));
  clock_.advance(1s);
  EXPECT_THAT(asMap(derive(m, type + "c_total{x=\"a\"} 2\nc_total{x=\"b\"} 1002\n")),
              ElementsAre(Pair("c_per_second", 3.0)));
}

TEST_F(PromMetricsTest, GaugesAreKeptAndLabelledOnesSummedSkippingNan) {
  PromMetrics m({});
  EXPECT_THAT(asMap(derive(m,
                           "# TYPE q gauge\nq{x=\"a\"} 3\nq{x=\"b\"} 4\nq{x=\"c\"} NaN\n"
                           "# TYPE inf gauge\ninf +Inf\nuntyped_thing 2.5\n")),
              ElementsAre(Pair("q", 7.0), Pair("untyped_thing", 2.5)));
}

TEST_F(PromMetricsTest, UntypedTotalIsTreatedAsACounter) {
  PromMetrics m({});
  derive(m, "jobs_total 1\n");
  clock_.advance(4s);
  EXPECT_THAT(asMap(derive(m, "jobs_total 9\n")), ElementsAre(Pair("jobs_per_second", 2.0)));
}

TEST_F(PromMetricsTest, OpenMetricsCounterFamilyKeepsItsSampleName) {
  PromMetrics m({});
  const std::string text = "# TYPE jobs counter\njobs_total 1\njobs_created 1.7e9\n";
  derive(m, text);
  clock_.advance(1s);
  EXPECT_THAT(asMap(derive(m, "# TYPE jobs counter\njobs_total 4\njobs_created 1.7e9\n")),
              ElementsAre(Pair("jobs_per_second", 3.0)));
}

TEST_F(PromMetricsTest, HistogramGivesObservationRateAndMean) {
  PromMetrics m({});
  const std::string type = "# TYPE lat histogram\n";
  derive(m,
         type + "lat_bucket{le=\"0.1\"} 5\nlat_bucket{le=\"+Inf\"} 10\nlat_sum 2\nlat_count 10\n");
  clock_.advance(10s);
  // 40 observations in 10 s totalling 6 s.
  EXPECT_THAT(
      asMap(derive(m, type + "lat_bucket{le=\"0.1\"} 25\nlat_bucket{le=\"+Inf\"} 50\n"
                             "lat_sum 8\nlat_count 50\n")),
      ElementsAre(Pair("lat_count_per_second", 4.0), Pair("lat_mean", DoubleNear(0.15, 1e-12))));
}

TEST_F(PromMetricsTest, SummaryWithoutObservationsHasARateButNoMean) {
  PromMetrics m({});
  const std::string text =
      "# TYPE rpc summary\nrpc{quantile=\"0.5\"} 3\nrpc_sum 100\nrpc_count 20\n";
  derive(m, text);
  clock_.advance(1s);
  EXPECT_THAT(asMap(derive(m, text)), ElementsAre(Pair("rpc_count_per_second", 0.0)));
}

TEST_F(PromMetricsTest, AllowlistSelectsFamiliesSamplesAndPrefixes) {
  PromMetrics m({.allowlist = {"lat", "jobs_total", "pg_*"}});
  const std::string text =
      "# TYPE lat histogram\nlat_sum 1\nlat_count 1\n# TYPE jobs counter\njobs_total 1\n"
      "pg_up 1\npg_connections 5\nother 1\n# TYPE other2 gauge\nother2 1\n";
  const PromMetrics::Derived first = derive(m, text);
  EXPECT_THAT(asMap(first), ElementsAre(Pair("pg_connections", 5.0), Pair("pg_up", 1.0)));
  EXPECT_EQ(first.allowed_samples, 5u);
  clock_.advance(1s);
  std::string later = text;
  later.replace(later.find("lat_count 1"), 11, "lat_count 2");
  EXPECT_THAT(asMap(derive(m, later)),
              ElementsAre(Key("jobs_per_second"), Key("lat_count_per_second"), Key("lat_mean"),
                          Key("pg_connections"), Key("pg_up")));
}

TEST_F(PromMetricsTest, CapDropsMetricsBeyondItInNameOrder) {
  PromMetrics m({.max_metrics = 2});
  const PromMetrics::Derived d = derive(m, "c 1\na 1\nb 1\nd 1\n");
  EXPECT_THAT(asMap(d), ElementsAre(Key("a"), Key("b")));
  EXPECT_EQ(d.dropped, 2u);
}

TEST_F(PromMetricsTest, ASeriesThatWentAwayStartsOverWhenItReturns) {
  PromMetrics m({});
  const std::string type = "# TYPE c_total counter\n";
  derive(m, type + "c_total 10\n");
  clock_.advance(1s);
  derive(m, type + "other 1\n");  // c_total is gone for a scrape
  clock_.advance(1s);
  EXPECT_THAT(derive(m, type + "c_total 1000\n").metrics, IsEmpty());
}

}  // namespace
}  // namespace noa::agent
