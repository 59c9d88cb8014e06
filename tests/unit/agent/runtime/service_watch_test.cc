// The service watch sees a process it did not start exit at once, follows a pidfile to a
// restarted process, and leaks neither fds nor threads.

#include "agent/runtime/service_watch.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;

pid_t spawnSleeper() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execlp("sleep", "sleep", "60", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

void killAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

size_t openFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 2000ms) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

TEST(ServiceWatch, OptionsFollowTheFlags) {
  AgentConfig config;
  EXPECT_FALSE(serviceWatchOptions(config).has_value());
  config.kind = "postgres";
  config.pg_data_dir = "/data";
  EXPECT_EQ(serviceWatchOptions(config)->pidfile, "/data/postmaster.pid");
  config.service_pidfile = "/run/pg.pid";
  EXPECT_EQ(serviceWatchOptions(config)->pidfile, "/run/pg.pid");
  config.service_pid = 12;
  EXPECT_EQ(serviceWatchOptions(config)->pid, 12);
}

TEST(ServiceWatch, ReadsThePidFilesFirstLine) {
  testing::TempDir dir;
  dir.write("a.pid", "1234\n/var/lib/postgresql/15/main\n");
  dir.write("b.pid", "garbage\n");
  EXPECT_EQ(readPidFile(dir.file("a.pid")), 1234);
  EXPECT_EQ(readPidFile(dir.file("b.pid")), 0);
  EXPECT_EQ(readPidFile(dir.file("missing.pid")), 0);
}

TEST(ServiceWatch, SeesAnExitAtOnceAndARestartThroughThePidfile) {
  testing::TempDir dir;
  const size_t fds_before = openFds();
  const pid_t first = spawnSleeper();
  dir.write("svc.pid", std::to_string(first) + "\n");
  std::atomic<int> changes{0};
  {
    ServiceWatchOptions options;
    options.pidfile = dir.file("svc.pid");
    options.rescan = 20ms;
    ServiceWatch watch(options, [&](ProcessState, pid_t) { ++changes; });
    watch.start();
    ASSERT_TRUE(eventually([&] { return watch.state() == ProcessState::kRunning; }));
    EXPECT_EQ(watch.pid(), first);

    const auto killed_at = std::chrono::steady_clock::now();
    ::kill(first, SIGKILL);  // not reaped yet: a zombie must count as exited too
    ASSERT_TRUE(eventually([&] { return watch.state() == ProcessState::kExited; }));
    EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 500ms);
    ::waitpid(first, nullptr, 0);

    const pid_t second = spawnSleeper();
    dir.write("svc.pid", std::to_string(second) + "\n");
    ASSERT_TRUE(eventually([&] { return watch.state() == ProcessState::kRunning; }));
    EXPECT_EQ(watch.pid(), second);
    EXPECT_EQ(changes.load(), 3);
    killAndReap(second);
    ASSERT_TRUE(eventually([&] { return watch.state() == ProcessState::kExited; }));
    watch.stop();
  }
  EXPECT_EQ(openFds(), fds_before);
}

TEST(ServiceWatch, MissingPidfileIsUnknownAndAStaleOneIsExited) {
  testing::TempDir dir;
  ServiceWatchOptions options;
  options.pidfile = dir.file("svc.pid");
  options.rescan = 10ms;
  ServiceWatch watch(options, nullptr);
  watch.start();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(watch.state(), ProcessState::kUnknown);
  const pid_t gone = spawnSleeper();
  killAndReap(gone);
  dir.write("svc.pid", std::to_string(gone) + "\n");
  EXPECT_TRUE(eventually([&] { return watch.state() == ProcessState::kExited; }));
  std::filesystem::remove(dir.file("svc.pid"));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(watch.state(), ProcessState::kExited);  // a clean stop removes the pidfile
  EXPECT_EQ(processStateName(watch.state()), "exited");
}

TEST(ServiceWatch, StopsPromptlyWhileWatchingALiveProcess) {
  const pid_t pid = spawnSleeper();
  ServiceWatchOptions options;
  options.pid = pid;
  ServiceWatch watch(options, nullptr);
  watch.start();
  ASSERT_TRUE(eventually([&] { return watch.state() == ProcessState::kRunning; }));
  const auto t0 = std::chrono::steady_clock::now();
  watch.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 200ms);
  killAndReap(pid);
}

}  // namespace
}  // namespace noa::agent
