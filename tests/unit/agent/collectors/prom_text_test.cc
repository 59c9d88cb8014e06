#include "agent/collectors/prom_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tests/unit/agent/collectors/fixtures.h"

namespace noa::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Labels = std::vector<std::pair<std::string, std::string>>;

const PromSample* find(const PromParseResult& r, const std::string& name, const Labels& labels) {
  for (const PromSample& s : r.samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

TEST(PromText, ParsesTheFormatsReferenceExample) {
  const PromParseResult r = parsePromText(noa::testing::readCollectorFixture("prom/valid.txt"));
  EXPECT_EQ(r.skipped_lines, 0u) << r.first_error;
  EXPECT_EQ(r.first_error, "");
  EXPECT_EQ(r.samples.size(), 24u);

  const PromSample* post = find(r, "http_requests_total", {{"method", "post"}, {"code", "200"}});
  ASSERT_NE(post, nullptr);
  EXPECT_EQ(post->type, PromType::kCounter);
  EXPECT_EQ(post->family, "http_requests_total");
  EXPECT_EQ(post->value, 1027);
  EXPECT_EQ(post->timestamp_ms, 1395066363000);

  const PromSample* plain = find(r, "metric_without_timestamp_and_labels", {});
  ASSERT_NE(plain, nullptr);
  EXPECT_EQ(plain->type, PromType::kUntyped);
  EXPECT_EQ(plain->value, 12.47);
  EXPECT_FALSE(plain->timestamp_ms.has_value());

  const PromSample* gauge = find(r, "process_resident_memory_bytes", {});
  ASSERT_NE(gauge, nullptr);
  EXPECT_EQ(gauge->type, PromType::kGauge);
  EXPECT_EQ(gauge->value, 2.5e7);
}

TEST(PromText, UnescapesLabelValues) {
  const PromParseResult r = parsePromText(noa::testing::readCollectorFixture("prom/valid.txt"));
  const PromSample* s =
      find(r, "msdos_file_access_time_seconds",
           {{"path", "C:\\DIR\\FILE.TXT"}, {"error", "Cannot find file:\n\"FILE.TXT\""}});
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->value, 1.458255915e9);
}

TEST(PromText, KeepsUnknownEscapesAndSpecialCharactersAsWritten) {
  const PromParseResult r = parsePromText("m{a=\"x\\ty\",b=\"}, {=\",c=\"\"} 1\n");
  ASSERT_EQ(r.samples.size(), 1u) << r.first_error;
  EXPECT_THAT(r.samples[0].labels,
              ElementsAre(Pair("a", "x\\ty"), Pair("b", "}, {="), Pair("c", "")));
}

TEST(PromText, ParsesInfinitiesNanAndNegativeTimestamps) {
  const PromParseResult r = parsePromText(noa::testing::readCollectorFixture("prom/valid.txt"));
  const PromSample* weird = find(r, "something_weird", {{"problem", "division by zero"}});
  ASSERT_NE(weird, nullptr);
  EXPECT_EQ(weird->value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(weird->timestamp_ms, -3982045);

  const PromSample* nan = find(r, "queue_depth", {{"queue", "c"}});
  ASSERT_NE(nan, nullptr);
  EXPECT_TRUE(std::isnan(nan->value));

  const PromParseResult more = parsePromText("a -Inf\nb NaN\nc +1.5\nd -2e-3\ne Inf\n");
  ASSERT_EQ(more.samples.size(), 5u) << more.first_error;
  EXPECT_EQ(more.samples[0].value, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(more.samples[1].value));
  EXPECT_EQ(more.samples[2].value, 1.5);
  EXPECT_EQ(more.samples[3].value, -2e-3);
  EXPECT_EQ(more.samples[4].value, std::numeric_limits<double>::infinity());
}

TEST(PromText, AssignsHistogramSeriesToTheirFamily) {
  const PromParseResult r = parsePromText(noa::testing::readCollectorFixture("prom/valid.txt"));
  int buckets = 0;
  for (const PromSample& s : r.samples) {
    if (s.family != "http_request_duration_seconds") continue;
    EXPECT_EQ(s.type, PromType::kHistogram) << s.name;
    if (promSeriesSuffix(s) == "_bucket") ++buckets;
  }
  EXPECT_EQ(buckets, 6);
  const PromSample* inf = find(r, "http_request_duration_seconds_bucket", {{"le", "+Inf"}});
  ASSERT_NE(inf, nullptr);
  EXPECT_EQ(inf->value, 144320);
  const PromSample* count = find(r, "http_request_duration_seconds_count", {});
  ASSERT_NE(count, nullptr);
  EXPECT_EQ(promSeriesSuffix(*count), "_count");
}

TEST(PromText, AssignsSummarySeriesToTheirFamily) {
  const PromParseResult r = parsePromText(noa::testing::readCollectorFixture("prom/valid.txt"));
  const PromSample* q = find(r, "rpc_duration_seconds", {{"quantile", "0.99"}});
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, PromType::kSummary);
  EXPECT_EQ(promSeriesSuffix(*q), "");
  const PromSample* sum = find(r, "rpc_duration_seconds_sum", {});
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->family, "rpc_duration_seconds");
  EXPECT_EQ(sum->type, PromType::kSummary);
  EXPECT_EQ(sum->value, 1.7560473e+07);
}

TEST(PromText, SuffixesOnlyJoinAFamilyOfAFittingType) {
  const PromParseResult r = parsePromText(
      "# TYPE g gauge\ng_count 1\n# TYPE s summary\ns_bucket 2\n# TYPE h histogram\nh_total 3\n");
  ASSERT_EQ(r.samples.size(), 3u);
  for (const PromSample& s : r.samples) {
    EXPECT_EQ(s.type, PromType::kUntyped) << s.name;
    EXPECT_EQ(s.family, s.name);
  }
}

TEST(PromText, AcceptsOpenMetricsStyleCountersCrlfIndentAndTrailingComma) {
  const PromParseResult r =
      parsePromText(noa::testing::readCollectorFixture("prom/openmetrics_style.txt"));
  EXPECT_EQ(r.skipped_lines, 0u) << r.first_error;
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].name, "jobs_processed_total");
  EXPECT_EQ(r.samples[0].family, "jobs_processed");
  EXPECT_EQ(r.samples[0].type, PromType::kCounter);
  EXPECT_THAT(r.samples[0].labels, ElementsAre(Pair("queue", "x")));
  EXPECT_EQ(r.samples[1].name, "indented_gauge");
  EXPECT_EQ(r.samples[1].value, 7);
}

TEST(PromText, TypeLineAfterItsSamplesStillTypesThem) {
  const PromParseResult r = parsePromText("late_total 5\n# TYPE late_total counter\n");
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].type, PromType::kCounter);
}

TEST(PromText, IgnoresCommentsThatAreNotHelpOrType) {
  const PromParseResult r =
      parsePromText("#TYPE x gauge\n# TYPEX y\n#\n# HELP h some text with \\n escapes\nx 1\n");
  EXPECT_EQ(r.skipped_lines, 0u) << r.first_error;
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].type, PromType::kUntyped);
}

TEST(PromText, SkipsAndCountsMalformedLinesAndKeepsTheRest) {
  const PromParseResult r = parsePromText(noa::testing::readCollectorFixture("prom/malformed.txt"));
  EXPECT_EQ(r.skipped_lines, 16u);
  EXPECT_THAT(r.first_error, HasSubstr("line 3: second TYPE"));
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].name, "good_total");
  EXPECT_EQ(r.samples[0].type, PromType::kCounter);
  EXPECT_EQ(r.samples[1].name, "good_gauge");
  EXPECT_EQ(r.samples[1].value, 2.5);
}

TEST(PromText, EachMalformedLineIsSkippedOnItsOwn) {
  for (const char* line : {"1bad 1",
                           "bad-dash 1",
                           "no_value",
                           "v{a=\"b\"}",
                           "v abc",
                           "v{a=\"b} 1",
                           "v{a\"b\"} 1",
                           "v{a=b} 1",
                           "v{a=\"1\",a=\"2\"} 1",
                           "v{a=\"1\" 1",
                           "v 1 12.5",
                           "v 1 2 3",
                           "v{1a=\"x\"} 1",
                           "v 0x10",
                           "v 1e",
                           "v ++1",
                           "v +-1",
                           "v{a=\"x\\",
                           "# TYPE t nonsense",
                           "# TYPE",
                           "# HELP 9x text",
                           "v{,} 1"}) {
    const PromParseResult r = parsePromText(line);
    EXPECT_EQ(r.skipped_lines, 1u) << line;
    EXPECT_TRUE(r.samples.empty()) << line;
    EXPECT_THAT(r.first_error, HasSubstr("line 1: ")) << line;
  }
}

TEST(PromText, GarbageIsSkippedNotCrashedOn) {
  std::string garbage = "<html><body>502 Bad Gateway</body></html>\n";
  for (int i = 0; i < 256; ++i) garbage.push_back(static_cast<char>(i));
  garbage += "\n{{{{\n\"\"\"\n}\n";
  const PromParseResult r = parsePromText(garbage);
  EXPECT_TRUE(r.samples.empty());
  EXPECT_GE(r.skipped_lines, 4u);
}

TEST(PromText, EmptyInputHasNothing) {
  const PromParseResult r = parsePromText("");
  EXPECT_TRUE(r.samples.empty());
  EXPECT_EQ(r.skipped_lines, 0u);
  EXPECT_TRUE(parsePromText("\n\n  \n\t\n").samples.empty());
}

TEST(PromText, NamesMayHoldColonsButLabelsMayNot) {
  const PromParseResult r = parsePromText("job:rate5m{a_b=\"1\"} 1\nx{a:b=\"1\"} 1\n");
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].name, "job:rate5m");
  EXPECT_EQ(r.skipped_lines, 1u);
}

}  // namespace
}  // namespace noa::agent
