#include "common/duration.h"

#include <gtest/gtest.h>

namespace noa {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesEveryUnit) {
  EXPECT_EQ(*parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*parseDuration("10s"), milliseconds(10'000));
  EXPECT_EQ(*parseDuration("10"), milliseconds(10'000));
  EXPECT_EQ(*parseDuration("5m"), milliseconds(300'000));
  EXPECT_EQ(*parseDuration("24h"), milliseconds(86'400'000));
  EXPECT_EQ(*parseDuration("7d"), milliseconds(7 * 86'400'000LL));
}

TEST(Duration, RejectsBadInputWithAClearMessage) {
  auto no_number = parseDuration("ms");
  ASSERT_FALSE(no_number.ok());
  EXPECT_NE(no_number.status().message().find("must start with a number"), std::string::npos);
  auto bad_unit = parseDuration("5w");
  ASSERT_FALSE(bad_unit.ok());
  EXPECT_NE(bad_unit.status().message().find("unknown unit 'w'"), std::string::npos);
  EXPECT_FALSE(parseDuration("99999999999999999999d").ok());
  EXPECT_FALSE(parseDuration("").ok());
  EXPECT_FALSE(parseDuration("-5s").ok());
}

TEST(Duration, FormatsInTheLargestWholeUnit) {
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(formatDuration(milliseconds(10'000)), "10s");
  EXPECT_EQ(formatDuration(milliseconds(7 * 86'400'000LL)), "7d");
}

}  // namespace
}  // namespace noa
