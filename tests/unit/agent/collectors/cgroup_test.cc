#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "agent/collectors/cgroup_collector.h"
#include "agent/collectors/cgroup_files.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/collectors/fixtures.h"

namespace noa::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using namespace std::chrono_literals;
using noa::testing::collectorFixture;
using noa::testing::readCollectorFixture;

std::map<std::string, double> asMap(const SourceReading& r) {
  std::map<std::string, double> out;
  for (const auto& m : r.metrics) out[m.name] = m.value;
  return out;
}

// cgroup files

TEST(CgroupFiles, ParsesCpuStat) {
  const Result<CpuStat> stat = parseCpuStat(readCollectorFixture("cgroup/limited/cpu.stat"));
  ASSERT_OK(stat);
  EXPECT_EQ(stat->usage_usec, 1500000u);
  EXPECT_EQ(stat->nr_periods, 200u);
  EXPECT_EQ(stat->nr_throttled, 20u);
  EXPECT_EQ(stat->throttled_usec, 300000u);
}

TEST(CgroupFiles, CpuStatWithoutTheCpuControllerHasNoThrottling) {
  const Result<CpuStat> stat = parseCpuStat(readCollectorFixture("cgroup/no_memory_max/cpu.stat"));
  ASSERT_OK(stat);
  EXPECT_EQ(stat->usage_usec, 1000u);
  EXPECT_FALSE(stat->nr_periods.has_value());
  EXPECT_FALSE(stat->throttled_usec.has_value());
}

TEST(CgroupFiles, RejectsMalformedCpuStat) {
  EXPECT_EQ(parseCpuStat("user_usec 5\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseCpuStat("usage_usec\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseCpuStat("usage_usec -5\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseCpuStat("usage_usec 5 6\n").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parseCpuStat("").status().code(), StatusCode::kInvalidArgument);
}

TEST(CgroupFiles, ParsesCpuMaxWithAndWithoutQuota) {
  Result<CpuMax> limited = parseCpuMax("50000 100000\n");
  ASSERT_OK(limited);
  EXPECT_EQ(limited->quota_usec, 50000u);
  EXPECT_EQ(limited->period_usec, 100000u);
  EXPECT_EQ(limited->limitCores(), 0.5);

  Result<CpuMax> unlimited = parseCpuMax("max 100000\n");
  ASSERT_OK(unlimited);
  EXPECT_FALSE(unlimited->quota_usec.has_value());
  EXPECT_FALSE(unlimited->limitCores().has_value());

  Result<CpuMax> two_cores = parseCpuMax("200000 100000");
  ASSERT_OK(two_cores);
  EXPECT_EQ(two_cores->limitCores(), 2.0);

  EXPECT_FALSE(parseCpuMax("").ok());
  EXPECT_FALSE(parseCpuMax("lots 100000").ok());
  EXPECT_FALSE(parseCpuMax("1000 0").ok());
  EXPECT_FALSE(parseCpuMax("1000 100000 7").ok());
}

TEST(CgroupFiles, ParsesMemoryCurrentAndMax) {
  Result<uint64_t> current = parseSingleValue("268435456\n");
  ASSERT_OK(current);
  EXPECT_EQ(*current, 268435456u);
  EXPECT_FALSE(parseSingleValue("").ok());
  EXPECT_FALSE(parseSingleValue("12 kB").ok());

  Result<std::optional<uint64_t>> max = parseMemoryMax("max\n");
  ASSERT_OK(max);
  EXPECT_FALSE(max->has_value());
  Result<std::optional<uint64_t>> limit = parseMemoryMax("536870912\n");
  ASSERT_OK(limit);
  EXPECT_EQ(*limit, 536870912u);
  EXPECT_FALSE(parseMemoryMax("unlimited").ok());
}

TEST(CgroupFiles, ParsesMemoryStat) {
  const auto stat = parseFlatKeyed(readCollectorFixture("cgroup/limited/memory.stat"));
  ASSERT_OK(stat);
  EXPECT_EQ(stat->at("anon"), 134217728u);
  EXPECT_EQ(stat->at("inactive_file"), 67108864u);
  EXPECT_EQ(stat->size(), 18u);
}

TEST(CgroupFiles, CountsCpuLists) {
  EXPECT_EQ(*parseCpuListCount("0-3\n"), 4u);
  EXPECT_EQ(*parseCpuListCount("0"), 1u);
  EXPECT_EQ(*parseCpuListCount("0-1,4,6-7"), 5u);
  EXPECT_FALSE(parseCpuListCount("").ok());
  EXPECT_FALSE(parseCpuListCount("3-1").ok());
  EXPECT_FALSE(parseCpuListCount("a-b").ok());
  EXPECT_FALSE(parseCpuListCount("0,").ok());
}

// The collector, on fixture directories

TEST(CgroupCollector, FirstCollectionHasMemoryAndLimitsButNoRatesYet) {
  noa::testing::FakeClock clock;
  CgroupCollector collector(collectorFixture("cgroup/limited"), clock, {.host_cpus = 8});
  const SourceReading r = collector.collect();
  EXPECT_OK(r.status);
  EXPECT_THAT(asMap(r),
              ElementsAre(Pair("cpu_limit_cores", 0.5), Pair("memory_bytes", 268435456.0),
                          Pair("memory_limit_bytes", 536870912.0), Pair("memory_usage_ratio", 0.5),
                          Pair("memory_working_set_bytes", 268435456.0 - 67108864.0)));
}

TEST(CgroupCollector, NoLimitFallsBackToCpusetThenHostCpus) {
  noa::testing::FakeClock clock;
  CgroupCollector unlimited(collectorFixture("cgroup/unlimited"), clock, {.host_cpus = 8});
  const SourceReading r = unlimited.collect();
  EXPECT_OK(r.status);
  EXPECT_THAT(asMap(r), ElementsAre(Pair("cpu_limit_cores", 8.0), Pair("memory_bytes", 1048576.0)));

  // Trailing slashes are fine too.
  CgroupCollector cpuset_only(collectorFixture("cgroup/limited") + "//", clock, {.host_cpus = 1});
  EXPECT_EQ(asMap(cpuset_only.collect()).at("cpu_limit_cores"), 0.5);
}

TEST(CgroupCollector, MissingMemoryMaxIsReportedAndTheRestStillMeasured) {
  noa::testing::FakeClock clock;
  CgroupCollector collector(collectorFixture("cgroup/no_memory_max"), clock, {.host_cpus = 2});
  const SourceReading r = collector.collect();
  EXPECT_EQ(r.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status.message(),
            collectorFixture("cgroup/no_memory_max") + "/memory.max: not found");
  EXPECT_THAT(asMap(r), ElementsAre(Pair("cpu_limit_cores", 2.0), Pair("memory_bytes", 4096.0)));
}

TEST(CgroupCollector, VanishedDirectoryIsNotFoundWithoutMetrics) {
  noa::testing::FakeClock clock;
  CgroupCollector collector(collectorFixture("cgroup/does-not-exist"), clock);
  const SourceReading r = collector.collect();
  EXPECT_EQ(r.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status.message(), collectorFixture("cgroup/does-not-exist") + ": not found");
  EXPECT_THAT(r.metrics, IsEmpty());
}

// A copy of a fixture cgroup whose counters the test moves forward.
class LiveCgroupDir {
 public:
  explicit LiveCgroupDir(const std::string& fixture) {
    fs::copy(collectorFixture(fixture), dir_.path(), fs::copy_options::recursive);
  }
  void write(const std::string& file, const std::string& text) {
    std::ofstream(dir_.path() + "/" + file, std::ios::trunc) << text;
  }
  void remove(const std::string& file) { fs::remove(dir_.path() + "/" + file); }
  const std::string& path() const { return dir_.path(); }

 private:
  noa::testing::TempDir dir_;
};

std::string cpuStat(uint64_t usage, uint64_t periods, uint64_t throttled) {
  return "usage_usec " + std::to_string(usage) + "\nuser_usec 0\nsystem_usec 0\nnr_periods " +
         std::to_string(periods) + "\nnr_throttled " + std::to_string(throttled) +
         "\nthrottled_usec 0\n";
}

TEST(CgroupCollector, CpuUsageAndThrottlingAreRatesOverTheInterval) {
  noa::testing::FakeClock clock;
  LiveCgroupDir cg("cgroup/limited");
  CgroupCollector collector(cg.path(), clock, {.host_cpus = 8});
  cg.write("cpu.stat", cpuStat(1'000'000, 100, 0));
  collector.collect();

  // 0.4 s of CPU in 2 s = 0.2 cores = 40% of the 0.5-core quota; 5 of 20 periods throttled.
  clock.advance(2s);
  cg.write("cpu.stat", cpuStat(1'400'000, 120, 5));
  const auto m = asMap(collector.collect());
  EXPECT_THAT(m.at("cpu_usage_cores"), DoubleNear(0.2, 1e-12));
  EXPECT_THAT(m.at("cpu_usage_ratio_of_limit"), DoubleNear(0.4, 1e-12));
  EXPECT_THAT(m.at("cpu_throttled_ratio"), DoubleNear(0.25, 1e-12));

  // Idle: no period ran, so nothing was throttled.
  clock.advance(1s);
  cg.write("cpu.stat", cpuStat(1'400'000, 120, 5));
  const auto idle = asMap(collector.collect());
  EXPECT_EQ(idle.at("cpu_usage_cores"), 0.0);
  EXPECT_EQ(idle.at("cpu_throttled_ratio"), 0.0);
}

TEST(CgroupCollector, CounterResetSkipsOneIntervalThenRecovers) {
  noa::testing::FakeClock clock;
  LiveCgroupDir cg("cgroup/limited");
  CgroupCollector collector(cg.path(), clock, {.host_cpus = 8});
  cg.write("cpu.stat", cpuStat(5'000'000, 100, 0));
  collector.collect();
  clock.advance(1s);
  cg.write("cpu.stat", cpuStat(100'000, 1, 0));  // cgroup recreated
  EXPECT_FALSE(asMap(collector.collect()).contains("cpu_usage_cores"));
  clock.advance(1s);
  cg.write("cpu.stat", cpuStat(600'000, 2, 0));
  EXPECT_THAT(asMap(collector.collect()).at("cpu_usage_cores"), DoubleNear(0.5, 1e-12));
}

TEST(CgroupCollector, UnparsableFileIsReportedWithItsPath) {
  noa::testing::FakeClock clock;
  LiveCgroupDir cg("cgroup/limited");
  cg.write("memory.max", "lots\n");
  CgroupCollector collector(cg.path(), clock, {.host_cpus = 8});
  const SourceReading r = collector.collect();
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status.message(), cg.path() + "/memory.max: not a number or 'max': 'lots'");
  EXPECT_TRUE(asMap(r).contains("memory_bytes"));
  EXPECT_FALSE(asMap(r).contains("memory_limit_bytes"));
}

TEST(CgroupCollector, OptionalFilesMayBeAbsent) {
  noa::testing::FakeClock clock;
  LiveCgroupDir cg("cgroup/limited");
  cg.remove("cpu.max");
  cg.remove("cpuset.cpus.effective");
  cg.remove("memory.stat");
  CgroupCollector collector(cg.path(), clock, {.host_cpus = 3});
  const SourceReading r = collector.collect();
  EXPECT_OK(r.status);
  EXPECT_EQ(asMap(r).at("cpu_limit_cores"), 3.0);
  EXPECT_FALSE(asMap(r).contains("memory_working_set_bytes"));
}

TEST(CgroupCollector, DirectoryThatVanishesAndReturnsStartsItsRatesOver) {
  noa::testing::FakeClock clock;
  noa::testing::TempDir parent;
  const std::string dir = parent.path() + "/svc";
  fs::copy(collectorFixture("cgroup/limited"), dir, fs::copy_options::recursive);
  CgroupCollector collector(dir, clock, {.host_cpus = 8});
  collector.collect();
  fs::remove_all(dir);
  clock.advance(1s);
  EXPECT_EQ(collector.collect().status.code(), StatusCode::kNotFound);
  fs::copy(collectorFixture("cgroup/limited"), dir, fs::copy_options::recursive);
  clock.advance(1s);
  const SourceReading back = collector.collect();
  EXPECT_OK(back.status);
  EXPECT_FALSE(asMap(back).contains("cpu_usage_cores"));
}

}  // namespace
}  // namespace noa::agent
