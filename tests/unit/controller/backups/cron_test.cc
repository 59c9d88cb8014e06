// Cron parsing (every error kind names its field and token) and next(): strictly after, across
// month and year ends, leap days, UTC without DST, Vixie's day-of-month/day-of-week rule, and
// a brute-force comparison against a minute-by-minute scan.

#include "controller/backups/cron.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/testing/status_matchers.h"
#include "tests/unit/controller/backups/backup_test_util.h"

namespace noa::controller::backups {
namespace {

using testing::kDay;
using testing::kMinute;
using testing::utcMs;

CronSchedule cron(std::string_view text) {
  auto parsed = parseCron(text);
  EXPECT_OK(parsed);
  return parsed.ok() ? *parsed : CronSchedule{};
}

int64_t nextOf(std::string_view text, int64_t after) {
  auto n = cron(text).next(after);
  EXPECT_TRUE(n.has_value()) << text;
  return n.value_or(-1);
}

std::string parseError(std::string_view text) {
  auto parsed = parseCron(text);
  EXPECT_FALSE(parsed.ok()) << "'" << text << "' parsed";
  if (!parsed.ok()) {
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  }
  return parsed.ok() ? "" : parsed.status().message();
}

TEST(Cron, NextIsStrictlyAfter) {
  const int64_t three = utcMs(2026, 11, 22, 3, 0);
  EXPECT_EQ(nextOf("0 3 * * *", three - 1), three);
  EXPECT_EQ(nextOf("0 3 * * *", three), three + kDay);
  EXPECT_EQ(nextOf("0 3 * * *", three + 500), three + kDay);
  EXPECT_EQ(nextOf("* * * * *", three), three + kMinute);
  EXPECT_EQ(nextOf("* * * * *", three + 59'999), three + kMinute);
}

TEST(Cron, ListsRangesAndSteps) {
  const int64_t base = utcMs(2026, 11, 22, 10, 7);
  EXPECT_EQ(nextOf("*/15 * * * *", base), utcMs(2026, 11, 22, 10, 15));
  EXPECT_EQ(nextOf("*/15 * * * *", utcMs(2026, 11, 22, 10, 45)), utcMs(2026, 11, 22, 11, 0));
  EXPECT_EQ(nextOf("1-10/2 * * * *", utcMs(2026, 11, 22, 10, 5)), utcMs(2026, 11, 22, 10, 7));
  EXPECT_EQ(nextOf("1-10/2 * * * *", utcMs(2026, 11, 22, 10, 9)), utcMs(2026, 11, 22, 11, 1));
  EXPECT_EQ(nextOf("5/20 * * * *", utcMs(2026, 11, 22, 10, 26)), utcMs(2026, 11, 22, 10, 45));
  EXPECT_EQ(nextOf("0,30 8,20 * * *", utcMs(2026, 11, 22, 8, 30)), utcMs(2026, 11, 22, 20, 0));
  EXPECT_EQ(nextOf("0 9-17/4 * * *", utcMs(2026, 11, 22, 13, 0)), utcMs(2026, 11, 22, 17, 0));
}

TEST(Cron, MonthAndWeekdayNamesAnySeven) {
  // 2026-11-22 is a Sunday.
  const int64_t sunday = utcMs(2026, 11, 22, 12, 0);
  EXPECT_EQ(nextOf("0 0 * * mon-fri", sunday), utcMs(2026, 11, 23));
  EXPECT_EQ(nextOf("0 0 * * MON-Fri", sunday), utcMs(2026, 11, 23));
  EXPECT_EQ(nextOf("0 0 * * 7", sunday), utcMs(2026, 11, 29));
  EXPECT_EQ(nextOf("0 0 * * 0", sunday), utcMs(2026, 11, 29));
  EXPECT_EQ(nextOf("0 0 * * sun", sunday), utcMs(2026, 11, 29));
  EXPECT_EQ(nextOf("0 0 * * 5-7", utcMs(2026, 11, 23)), utcMs(2026, 11, 27));  // Friday
  EXPECT_EQ(nextOf("0 0 1 jan,JUL *", sunday), utcMs(2027, 1, 1));
  EXPECT_EQ(nextOf("0 0 1 jul-aug *", sunday), utcMs(2027, 7, 1));
}

TEST(Cron, Macros) {
  const int64_t t = utcMs(2026, 11, 22, 12, 34);  // a Sunday
  EXPECT_EQ(nextOf("@yearly", t), utcMs(2027, 1, 1));
  EXPECT_EQ(nextOf("@annually", t), utcMs(2027, 1, 1));
  EXPECT_EQ(nextOf("@monthly", t), utcMs(2026, 12, 1));
  EXPECT_EQ(nextOf("@weekly", t), utcMs(2026, 11, 29));
  EXPECT_EQ(nextOf("@daily", t), utcMs(2026, 11, 23));
  EXPECT_EQ(nextOf("@midnight", t), utcMs(2026, 11, 23));
  EXPECT_EQ(nextOf("@hourly", t), utcMs(2026, 11, 22, 13, 0));
  EXPECT_EQ(nextOf("@DAILY", t), utcMs(2026, 11, 23));
  EXPECT_EQ(cron("@daily").text(), "@daily");
}

TEST(Cron, VixieDayRuleEitherWhenBothRestricted) {
  // The 13th or any Friday. From Sunday 2026-11-08: Friday 13th of Nov is both.
  const auto s = cron("0 0 13 * fri");
  EXPECT_EQ(*s.next(utcMs(2026, 11, 8)), utcMs(2026, 11, 13));
  EXPECT_EQ(*s.next(utcMs(2026, 11, 13)), utcMs(2026, 11, 20));  // a Friday, not the 13th
  EXPECT_EQ(*s.next(utcMs(2026, 12, 11)), utcMs(2026, 12, 13));  // the 13th, a Sunday
  // A field starting with '*' is unrestricted (Vixie): then both must match. Odd days that
  // are Mondays: Nov 2 and 16 and 30 are even Mondays, Nov 9 and 23 and Dec 7 odd ones.
  const auto star = cron("0 0 */2 * 1");
  EXPECT_EQ(*star.next(utcMs(2026, 11, 1)), utcMs(2026, 11, 9));
  EXPECT_EQ(*star.next(utcMs(2026, 11, 9)), utcMs(2026, 11, 23));
  EXPECT_EQ(*star.next(utcMs(2026, 11, 23)), utcMs(2026, 12, 7));
  // Day-of-week alone restricted: only it counts.
  EXPECT_EQ(nextOf("0 0 * * 3", utcMs(2026, 11, 22)), utcMs(2026, 11, 25));
}

TEST(Cron, MonthEndsAndYearEnds) {
  const auto last = cron("0 0 31 * *");
  EXPECT_EQ(*last.next(utcMs(2026, 1, 31)), utcMs(2026, 3, 31));  // no Feb 31
  EXPECT_EQ(*last.next(utcMs(2026, 3, 31)), utcMs(2026, 5, 31));  // no Apr 31
  EXPECT_EQ(*last.next(utcMs(2026, 7, 31)), utcMs(2026, 8, 31));
  EXPECT_EQ(*last.next(utcMs(2026, 12, 31)), utcMs(2027, 1, 31));
  EXPECT_EQ(nextOf("59 23 31 12 *", utcMs(2026, 12, 31, 23, 59)), utcMs(2027, 12, 31, 23, 59));
  EXPECT_EQ(nextOf("0 0 1 1 *", utcMs(2026, 12, 31, 23, 59, 30)), utcMs(2027, 1, 1));
  EXPECT_EQ(nextOf("*/10 * * * *", utcMs(2026, 12, 31, 23, 55)), utcMs(2027, 1, 1));
  EXPECT_EQ(nextOf("0 0 1 * *", utcMs(2026, 2, 28, 12, 0)), utcMs(2026, 3, 1));
  EXPECT_EQ(nextOf("0 0 1 * *", utcMs(2028, 2, 28, 12, 0)), utcMs(2028, 3, 1));
}

TEST(Cron, LeapDayOnlySchedules) {
  const auto leap = cron("0 12 29 2 *");
  EXPECT_EQ(*leap.next(utcMs(2025, 3, 1)), utcMs(2028, 2, 29, 12, 0));
  EXPECT_EQ(*leap.next(utcMs(2028, 2, 29, 12, 0)), utcMs(2032, 2, 29, 12, 0));
  // 2100 is not a leap year: from 2096 the next Feb 29 is in 2104.
  EXPECT_EQ(*leap.next(utcMs(2096, 3, 1)), utcMs(2104, 2, 29, 12, 0));
  // 2000 was one (divisible by 400).
  EXPECT_EQ(*leap.next(utcMs(1997, 1, 1)), utcMs(2000, 2, 29, 12, 0));
  EXPECT_EQ(nextOf("0 0 28-29 2 *", utcMs(2026, 2, 28)), utcMs(2027, 2, 28));
}

TEST(Cron, UtcHasNoDaylightSavingTime) {
  // 02:30 exists every day, also on the EU (Mar 29, Oct 25) and US (Mar 8, Nov 1) DST days:
  // a year of daily slots is exactly 24 hours apart.
  const auto s = cron("30 2 * * *");
  int64_t t = *s.next(utcMs(2026, 1, 1));
  for (int i = 0; i < 365; ++i) {
    const int64_t n = *s.next(t);
    ASSERT_EQ(n - t, kDay) << "after " << t;
    t = n;
  }
  EXPECT_EQ(*s.next(utcMs(2026, 3, 29)), utcMs(2026, 3, 29, 2, 30));
}

TEST(Cron, ImpossibleSchedulesAreRefusedAtParseTime) {
  EXPECT_EQ(parseError("0 0 30 2 *"), "never fires: day-of-month '30' does not occur in month '2'");
  EXPECT_NE(parseError("0 0 31 apr,jun,sep,nov *").find("never fires"), std::string::npos);
  EXPECT_NE(parseError("0 0 30-31 feb *").find("never fires"), std::string::npos);
  // Possible ones: Feb 29 (leap years), and Vixie's OR with a weekday.
  EXPECT_OK(parseCron("0 0 29 2 *"));
  EXPECT_OK(parseCron("0 0 30 2 mon"));
  EXPECT_OK(parseCron("0 0 31 * *"));
}

TEST(Cron, EveryErrorNamesTheFieldAndTheToken) {
  EXPECT_EQ(parseError(""), "empty schedule");
  EXPECT_EQ(parseError("   "), "empty schedule");
  EXPECT_EQ(parseError("* * * *"),
            "expected 5 fields (minute hour day-of-month month day-of-week) or a macro, got 4");
  EXPECT_NE(parseError("* * * * * *").find("got 6"), std::string::npos);
  EXPECT_EQ(parseError("@often"),
            "unknown macro '@often' (known: @yearly, @annually, @monthly, @weekly, @daily, "
            "@midnight, @hourly)");
  EXPECT_NE(parseError("@reboot").find("unknown macro '@reboot'"), std::string::npos);
  EXPECT_EQ(parseError("@daily 1"), "macro '@daily' takes no other fields");
  EXPECT_EQ(parseError("61 * * * *"), "bad minute field '61': '61' is out of range 0-59");
  EXPECT_EQ(parseError("0 24 * * *"), "bad hour field '24': '24' is out of range 0-23");
  EXPECT_EQ(parseError("0 0 0 * *"), "bad day-of-month field '0': '0' is out of range 1-31");
  EXPECT_EQ(parseError("0 0 32 * *"), "bad day-of-month field '32': '32' is out of range 1-31");
  EXPECT_EQ(parseError("0 0 * 13 *"), "bad month field '13': '13' is out of range 1-12");
  EXPECT_EQ(parseError("0 0 * * 8"), "bad day-of-week field '8': '8' is out of range 0-7");
  EXPECT_EQ(parseError("0 0 * jam *"), "bad month field 'jam': unknown month name 'jam'");
  EXPECT_EQ(parseError("0 0 * * mon-fry"),
            "bad day-of-week field 'mon-fry': unknown day-of-week name 'fry'");
  EXPECT_EQ(parseError("mon * * * *"), "bad minute field 'mon': 'mon' is not a number");
  EXPECT_EQ(parseError("0 0 * * monday"),
            "bad day-of-week field 'monday': unknown day-of-week name 'monday'");
  EXPECT_EQ(parseError("10-5 * * * *"), "bad minute field '10-5': range '10-5' is reversed");
  EXPECT_EQ(parseError("0 0 * * fri-mon"),
            "bad day-of-week field 'fri-mon': range 'fri-mon' is reversed");
  EXPECT_EQ(parseError("*/0 * * * *"), "bad minute field '*/0': step '0' is out of range 1-60");
  EXPECT_EQ(parseError("0 */25 * * *"), "bad hour field '*/25': step '25' is out of range 1-24");
  EXPECT_EQ(parseError("*/x * * * *"), "bad minute field '*/x': step 'x' is not a number");
  EXPECT_EQ(parseError("*/ * * * *"), "bad minute field '*/': step '' is not a number");
  EXPECT_EQ(parseError("1,,2 * * * *"), "bad minute field '1,,2': empty list item");
  EXPECT_EQ(parseError("1, * * * *"), "bad minute field '1,': empty list item");
  EXPECT_EQ(parseError("1- * * * *"), "bad minute field '1-': missing value");
  EXPECT_EQ(parseError("? * * * *"), "bad minute field '?': '?' is not a number");
  EXPECT_EQ(parseError("-5 * * * *"), "bad minute field '-5': missing value");
  EXPECT_EQ(parseError("99999999999 * * * *"),
            "bad minute field '99999999999': '99999999999' is out of range 0-59");
  EXPECT_EQ(parseError("0 0 L * *"), "bad day-of-month field 'L': 'L' is not a number");
}

TEST(Cron, NextIsBoundedPastYear9999) {
  const auto yearly = cron("0 0 1 1 *");
  EXPECT_EQ(*yearly.next(utcMs(9998, 6, 1)), utcMs(9999, 1, 1));
  EXPECT_FALSE(yearly.next(utcMs(9999, 6, 1)).has_value());
  EXPECT_FALSE(yearly.next(INT64_MAX).has_value());
}

TEST(Cron, MatchesAgreesWithNext) {
  const auto s = cron("0 3 * * *");
  EXPECT_TRUE(s.matches(utcMs(2026, 11, 22, 3, 0)));
  EXPECT_TRUE(s.matches(utcMs(2026, 11, 22, 3, 0, 59)));
  EXPECT_FALSE(s.matches(utcMs(2026, 11, 22, 3, 1)));
}

// next() against the definition: the first whole minute after `after` that matches.
TEST(Cron, NextEqualsAMinuteByMinuteScan) {
  const char* schedules[] = {"*/7 3-5 * * *", "0 0 13 * fri",   "15 */6 1,15 * *",
                             "0 0 */2 * 1",   "0 12 * feb sun", "30 23 28-31 * *"};
  std::mt19937_64 random(42);
  std::uniform_int_distribution<int64_t> start(utcMs(2024, 1, 1), utcMs(2030, 1, 1));
  for (const char* text : schedules) {
    const auto s = cron(text);
    for (int i = 0; i < 8; ++i) {
      const int64_t after = start(random);
      const int64_t expected_from = (after / kMinute + 1) * kMinute;
      int64_t scan = expected_from;
      while (!s.matches(scan) && scan - after < 400 * kDay) scan += kMinute;
      ASSERT_EQ(*s.next(after), scan) << text << " after " << after;
    }
  }
}

TEST(Cron, FieldsAreSeparatedByAnyWhitespace) {
  EXPECT_EQ(nextOf("  0\t3  * *\n*  ", utcMs(2026, 11, 22)), utcMs(2026, 11, 22, 3, 0));
}

}  // namespace
}  // namespace noa::controller::backups
