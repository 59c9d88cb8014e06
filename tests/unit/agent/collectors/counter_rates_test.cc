#include "agent/collectors/counter_rates.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <string>

#include "agent/collectors/small_file.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/harness/child_process.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

TEST(CounterRates, FirstSampleHasNoRateThenDeltaPerSecond) {
  noa::testing::FakeClock clock;
  CounterRates rates;
  EXPECT_FALSE(rates.update("c", 100, clock.now()).has_value());
  clock.advance(4s);
  EXPECT_EQ(rates.update("c", 300, clock.now()), 50.0);
  clock.advance(500ms);
  EXPECT_EQ(rates.update("c", 310, clock.now()), 20.0);
}

TEST(CounterRates, NamesAreIndependent) {
  noa::testing::FakeClock clock;
  CounterRates rates;
  rates.update("a", 0, clock.now());
  clock.advance(1s);
  rates.update("b", 0, clock.now());
  clock.advance(1s);
  EXPECT_EQ(rates.update("a", 10, clock.now()), 5.0);
  EXPECT_EQ(rates.update("b", 10, clock.now()), 10.0);
  EXPECT_EQ(rates.size(), 2u);
}

TEST(CounterRates, ResetGivesNoRateAndRestartsTheSeries) {
  noa::testing::FakeClock clock;
  CounterRates rates;
  rates.update("c", 1000, clock.now());
  clock.advance(1s);
  EXPECT_FALSE(rates.update("c", 10, clock.now()).has_value());
  clock.advance(1s);
  EXPECT_EQ(rates.update("c", 30, clock.now()), 20.0);
}

TEST(CounterRates, SameInstantKeepsTheOlderSample) {
  noa::testing::FakeClock clock;
  CounterRates rates;
  rates.update("c", 0, clock.now());
  clock.advance(1s);
  rates.update("c", 5, clock.now());
  EXPECT_FALSE(rates.update("c", 7, clock.now()).has_value());
  clock.advance(1s);
  EXPECT_EQ(rates.update("c", 9, clock.now()), 4.0);  // measured from the value at 1 s
}

TEST(CounterRates, NonFiniteValuesRestartTheSeries) {
  noa::testing::FakeClock clock;
  CounterRates rates;
  rates.update("c", 0, clock.now());
  clock.advance(1s);
  EXPECT_FALSE(rates.update("c", std::numeric_limits<double>::quiet_NaN(), clock.now()));
  EXPECT_EQ(rates.size(), 0u);
  clock.advance(1s);
  EXPECT_FALSE(rates.update("c", 5, clock.now()).has_value());
}

TEST(CounterRates, ForgetAndBound) {
  noa::testing::FakeClock clock;
  CounterRates rates;
  for (std::size_t i = 0; i < CounterRates::kMaxSeries + 10; ++i) {
    rates.update("s" + std::to_string(i), 1, clock.now());
  }
  EXPECT_EQ(rates.size(), CounterRates::kMaxSeries);
  rates.forget("s0");
  EXPECT_EQ(rates.size(), CounterRates::kMaxSeries - 1);
  rates.clear();
  EXPECT_EQ(rates.size(), 0u);
}

TEST(SmallFile, ReadsAndNamesProblemsPlainly) {
  noa::testing::TempDir dir;
  const std::string path = dir.path() + "/f";
  EXPECT_EQ(readSmallFile(path).status().message(), path + ": not found");
  EXPECT_EQ(readSmallFile(path).status().code(), StatusCode::kNotFound);
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("hello\n", f);
    std::fclose(f);
  }
  EXPECT_EQ(readSmallFile(path).value(), "hello\n");
  EXPECT_EQ(readSmallFile(path, 3).status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(readSmallFile(dir.path() + "/f/x").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace noa::agent
