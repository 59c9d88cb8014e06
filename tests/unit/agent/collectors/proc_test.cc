#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "agent/collectors/proc_collector.h"
#include "agent/collectors/proc_files.h"
#include "agent/collectors/small_file.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/collectors/fixtures.h"

namespace noa::agent {
namespace {

namespace fs = std::filesystem;
using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::Gt;
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

constexpr int64_t kTicks = 100;

ProcCollector makeCollector(ProcTarget target, const Clock& clock,
                            const std::string& proc_root = collectorFixture("proc")) {
  Result<ProcCollector> c = ProcCollector::create(
      std::move(target), clock, {.proc_root = proc_root, .ticks_per_second = kTicks});
  EXPECT_OK(c);
  return std::move(c).value();
}

// /proc files

TEST(ProcFiles, ParsesStatWithSpacesAndParenthesesInComm) {
  const Result<ProcStat> stat = parseProcStat(readCollectorFixture("proc/100/stat"));
  ASSERT_OK(stat);
  EXPECT_EQ(stat->pid, 100);
  EXPECT_EQ(stat->comm, "postgres: main) (x");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 1);
  EXPECT_EQ(stat->utime, 150u);
  EXPECT_EQ(stat->stime, 50u);
  EXPECT_EQ(stat->cutime, 300u);
  EXPECT_EQ(stat->cstime, 100u);
  EXPECT_EQ(stat->totalTicks(), 600u);
  EXPECT_EQ(stat->starttime, 5000u);
  EXPECT_EQ(stat->rss_pages, 2048);
}

TEST(ProcFiles, RejectsTruncatedOrGarbledStat) {
  EXPECT_FALSE(parseProcStat(readCollectorFixture("proc/400/stat")).ok());
  EXPECT_FALSE(parseProcStat("").ok());
  EXPECT_FALSE(parseProcStat("12 comm S 1").ok());
  EXPECT_FALSE(parseProcStat("x (a) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 9 1 1").ok());
  EXPECT_FALSE(parseProcStat("5 (a) S 1 1 1 0 -1 0 0 0 0 0 x 1 0 0 20 0 1 0 9 1 1").ok());
}

TEST(ProcFiles, ParsesStatus) {
  const Result<ProcStatus> status = parseProcStatus(readCollectorFixture("proc/100/status"));
  ASSERT_OK(status);
  EXPECT_EQ(status->vm_rss_bytes, 8192u * 1024);
  EXPECT_EQ(status->threads, 1u);
}

TEST(ProcFiles, ZombieStatusHasNoRss) {
  const Result<ProcStatus> status = parseProcStatus(readCollectorFixture("proc/103/status"));
  ASSERT_OK(status);
  EXPECT_FALSE(status->vm_rss_bytes.has_value());
}

TEST(ProcFiles, RejectsMalformedStatus) {
  EXPECT_FALSE(parseProcStatus("").ok());
  EXPECT_FALSE(parseProcStatus("Name:\tx\nVmRSS:\t12 MB\n").ok());
  EXPECT_FALSE(parseProcStatus("Name:\tx\nVmRSS:\tlots kB\n").ok());
  EXPECT_FALSE(parseProcStatus("Name:\tx\nThreads:\t\n").ok());
}

TEST(ProcFiles, ParsesPidfiles) {
  EXPECT_EQ(*parsePidfile("100\n"), 100);
  EXPECT_EQ(*parsePidfile(" 42 \r\nmore lines\n"), 42);
  EXPECT_EQ(*parsePidfile(readCollectorFixture("proc/postmaster.pid")), 100);
  EXPECT_FALSE(parsePidfile("").ok());
  EXPECT_FALSE(parsePidfile("0\n").ok());
  EXPECT_FALSE(parsePidfile("-5\n").ok());
  EXPECT_FALSE(parsePidfile("12abc\n").ok());
}

TEST(ProcFiles, ParsesOurOwnLiveFiles) {
  const Result<std::string> stat_text = readSmallFile("/proc/self/stat");
  ASSERT_OK(stat_text);
  const Result<ProcStat> stat = parseProcStat(*stat_text);
  ASSERT_OK(stat);
  EXPECT_EQ(stat->pid, ::getpid());
  EXPECT_EQ(stat->ppid, ::getppid());
  const Result<std::string> status_text = readSmallFile("/proc/self/status");
  ASSERT_OK(status_text);
  const Result<ProcStatus> status = parseProcStatus(*status_text);
  ASSERT_OK(status);
  EXPECT_THAT(status->vm_rss_bytes.value_or(0), Gt(0u));
}

// The collector

TEST(ProcCollector, ValidatesItsTarget) {
  noa::testing::FakeClock clock;
  EXPECT_FALSE(ProcCollector::create({}, clock).ok());
  EXPECT_FALSE(ProcCollector::create({.pid = 1, .pidfile = "/run/x.pid"}, clock).ok());
  EXPECT_FALSE(ProcCollector::create({.pid = -1}, clock).ok());
  EXPECT_OK(ProcCollector::create({.pid = 1}, clock));
}

TEST(ProcCollector, SumsTheTreeOfThePid) {
  noa::testing::FakeClock clock;
  ProcCollector c = makeCollector({.pid = 100}, clock);
  const SourceReading r = c.collect();
  EXPECT_OK(r.status);
  // 100 -> {101 -> 102, 103 (zombie)}; 200 is not a descendant; 400 and "notapid" are skipped.
  EXPECT_THAT(asMap(r), ElementsAre(Pair("memory_bytes", (8192.0 + 4096 + 2048) * 1024),
                                    Pair("process_count", 4.0)));
}

TEST(ProcCollector, CpuIsARateOfTheTreesTicks) {
  noa::testing::FakeClock clock;
  noa::testing::TempDir root;
  fs::copy(collectorFixture("proc"), root.path(), fs::copy_options::recursive);
  ProcCollector c = makeCollector({.pid = 100}, clock, root.path());
  c.collect();

  // The child 102 used 150 more ticks (1.5 s of CPU) over 2 s.
  clock.advance(2s);
  std::string stat = readCollectorFixture("proc/102/stat");
  stat.replace(stat.find(" 5 5 0 0 "), 9, " 80 80 0 0 ");
  std::ofstream(root.path() + "/102/stat", std::ios::trunc) << stat;
  EXPECT_THAT(asMap(c.collect()).at("cpu_usage_cores"), DoubleNear(0.75, 1e-12));
}

TEST(ProcCollector, FollowsThePidfile) {
  noa::testing::FakeClock clock;
  ProcCollector c = makeCollector({.pidfile = collectorFixture("proc/postmaster.pid")}, clock);
  const SourceReading r = c.collect();
  EXPECT_OK(r.status);
  EXPECT_EQ(asMap(r).at("process_count"), 4.0);
  EXPECT_EQ(c.describeTarget(), "pidfile " + collectorFixture("proc/postmaster.pid"));
}

TEST(ProcCollector, MissingOrBadPidfileIsDegraded) {
  noa::testing::FakeClock clock;
  ProcCollector missing = makeCollector({.pidfile = collectorFixture("proc/none.pid")}, clock);
  SourceReading r = missing.collect();
  EXPECT_EQ(r.status.message(), collectorFixture("proc/none.pid") + ": not found");
  EXPECT_THAT(r.metrics, IsEmpty());

  ProcCollector bad = makeCollector({.pidfile = collectorFixture("proc/bad.pid")}, clock);
  r = bad.collect();
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status.message(), collectorFixture("proc/bad.pid") + ": no pid on the first line");
}

TEST(ProcCollector, VanishedOrZombiePidIsDegraded) {
  noa::testing::FakeClock clock;
  ProcCollector gone = makeCollector({.pid = 999}, clock);
  SourceReading r = gone.collect();
  EXPECT_EQ(r.status.code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status.message(), "pid 999: not found");
  EXPECT_THAT(r.metrics, IsEmpty());

  ProcCollector zombie = makeCollector({.pid = 300}, clock);
  r = zombie.collect();
  EXPECT_EQ(r.status.message(), "pid 300: exited (zombie)");
  EXPECT_THAT(r.metrics, IsEmpty());

  ProcCollector broken = makeCollector({.pid = 400}, clock);
  EXPECT_EQ(broken.collect().status.code(), StatusCode::kInvalidArgument);
}

TEST(ProcCollector, ARestartedRootStartsANewCpuCounter) {
  noa::testing::FakeClock clock;
  noa::testing::TempDir root;
  fs::copy(collectorFixture("proc"), root.path(), fs::copy_options::recursive);
  ProcCollector c = makeCollector({.pid = 100}, clock, root.path());
  c.collect();
  clock.advance(1s);
  // Same pid, new process (later start time) with more ticks: no rate across the restart.
  std::string stat = readCollectorFixture("proc/100/stat");
  stat.replace(stat.find(" 5000 "), 6, " 9000 ");
  stat.replace(stat.find(" 150 50 "), 8, " 900 50 ");
  std::ofstream(root.path() + "/100/stat", std::ios::trunc) << stat;
  EXPECT_FALSE(asMap(c.collect()).contains("cpu_usage_cores"));
  clock.advance(1s);
  EXPECT_EQ(asMap(c.collect()).at("cpu_usage_cores"), 0.0);
}

TEST(ProcCollector, TreeIsBoundedByMaxProcesses) {
  noa::testing::FakeClock clock;
  Result<ProcCollector> c = ProcCollector::create(
      {.pid = 100}, clock,
      {.proc_root = collectorFixture("proc"), .ticks_per_second = kTicks, .max_processes = 2});
  ASSERT_OK(c);
  const SourceReading r = c->collect();
  EXPECT_EQ(r.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(asMap(r).at("process_count"), 2.0);
}

TEST(ProcCollector, MeasuresOurOwnLiveProcess) {
  noa::testing::FakeClock clock;
  Result<ProcCollector> c = ProcCollector::create({.pid = ::getpid()}, clock);
  ASSERT_OK(c);
  SourceReading r = c->collect();
  EXPECT_OK(r.status);
  EXPECT_THAT(asMap(r).at("memory_bytes"), Gt(1024.0 * 1024));
  EXPECT_GE(asMap(r).at("process_count"), 1.0);

  // Burn some CPU; the fake second makes the rate well-defined and non-negative.
  volatile double x = 0;
  for (int i = 0; i < 20'000'000; ++i) x = x + i * 0.5;
  clock.advance(1s);
  r = c->collect();
  EXPECT_OK(r.status);
  EXPECT_GE(asMap(r).at("cpu_usage_cores"), 0.0);
}

}  // namespace
}  // namespace noa::agent
