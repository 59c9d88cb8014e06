#include "common/process/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/testing/status_matchers.h"

namespace noa {
namespace {

using namespace std::chrono_literals;

ProcessSpec child(std::vector<std::string> args) {
  ProcessSpec spec;
  spec.argv.push_back(NOA_TEST_CHILD_PATH);
  for (auto& a : args) spec.argv.push_back(a);
  spec.timeout = 10s;
  return spec;
}

// True while `pid` exists and is not a zombie (a reparented zombie waits for init to reap it,
// which may never happen inside a container, but it is dead for our purposes).
bool runningProcess(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return false;
  std::string line;
  std::getline(in, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

pid_t grandchildPid(const std::string& out) {
  auto pos = out.find("grandchild=");
  if (pos == std::string::npos) return -1;
  return static_cast<pid_t>(std::stol(out.substr(pos + 11)));
}

TEST(Process, ReturnsExitCode) {
  auto r = runProcess(child({"--exit", "7"}));
  ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->cancelled);

  auto ok = runProcess(child({}));
  ASSERT_OK(ok);
  EXPECT_EQ(ok->exit_code, 0);
}

TEST(Process, CapturesStdoutAndStderr) {
  auto r = runProcess(child({"--print", "20", "--print-stderr", "12"}));
  ASSERT_OK(r);
  EXPECT_EQ(r->stdout_tail, "0123456789012345END\n");
  EXPECT_EQ(r->stderr_tail, "01234567END\n");
  EXPECT_FALSE(r->stdout_truncated);
}

TEST(Process, KeepsOnlyTheTailOfLongOutput) {
  auto spec = child({"--print", "1000000"});
  spec.max_output_bytes = 1000;
  auto r = runProcess(spec);
  ASSERT_OK(r);
  EXPECT_EQ(r->exit_code, 0);
  ASSERT_EQ(r->stdout_tail.size(), 1000u);
  EXPECT_TRUE(r->stdout_truncated);
  EXPECT_EQ(r->stdout_tail.substr(996), "END\n");
}

TEST(Process, PassesEnvironmentAndWorkingDir) {
  auto spec = child({"--print-env", "NOA_PROCESS_TEST_VAR", "--print-cwd"});
  spec.env["NOA_PROCESS_TEST_VAR"] = "hello";
  spec.working_dir = "/tmp";
  auto r = runProcess(spec);
  ASSERT_OK(r);
  EXPECT_EQ(r->stdout_tail, "NOA_PROCESS_TEST_VAR=hello\n/tmp\n");
}

TEST(Process, NonexistentBinaryIsNotFound) {
  ProcessSpec spec;
  spec.argv = {"/nonexistent/noa-no-such-binary", "x"};
  auto r = runProcess(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("noa-no-such-binary"), std::string::npos);

  spec.argv = {"noa-no-such-binary-in-path"};
  auto r2 = runProcess(spec);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.status().code(), StatusCode::kNotFound);
}

TEST(Process, BadWorkingDirIsAnError) {
  auto spec = child({});
  spec.working_dir = "/nonexistent/dir";
  auto r = runProcess(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("chdir"), std::string::npos);
}

TEST(Process, EmptyArgvIsInvalid) {
  auto r = runProcess(ProcessSpec{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Process, TimeoutTerminatesCooperativeChild) {
  auto spec = child({"--sleep-ms", "30000"});
  spec.timeout = 200ms;
  auto r = runProcess(spec);
  ASSERT_OK(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_LT(r->duration, 2s);
}

TEST(Process, TimeoutKillsChildIgnoringSigtermAndItsGrandchild) {
  auto spec = child({"--ignore-term", "--grandchild", "--sleep-ms", "30000"});
  spec.timeout = 300ms;
  spec.kill_grace = 300ms;
  auto r = runProcess(spec);
  ASSERT_OK(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_GE(r->duration, 550ms);
  EXPECT_LT(r->duration, 3s);
  pid_t gc = grandchildPid(r->stdout_tail);
  ASSERT_GT(gc, 0) << r->stdout_tail;
  // SIGKILL is delivered asynchronously; give the kernel a moment to tear the grandchild down.
  auto until = std::chrono::steady_clock::now() + 2s;
  while (runningProcess(gc) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(runningProcess(gc)) << "grandchild " << gc << " survived";
}

TEST(Process, ChildExitingLeavesNoZombie) {
  auto r = runProcess(child({"--exit", "3"}));
  ASSERT_OK(r);
  // waitpid(-1) fails with ECHILD only when no child (zombie or not) is left.
  int status;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

TEST(Process, CancelStopsTheGroup) {
  StopToken stop;
  std::thread canceller([&] {
    stop.waitFor(200ms);
    stop.requestStop();
  });
  auto spec = child({"--sleep-ms", "30000"});
  auto r = runProcess(spec, &stop);
  canceller.join();
  ASSERT_OK(r);
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->timed_out);
  EXPECT_LT(r->duration, 3s);
}

}  // namespace
}  // namespace noa
