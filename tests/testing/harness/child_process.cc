#include "tests/testing/harness/child_process.h"

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace noa::testing {

Result<std::unique_ptr<ChildProcess>> ChildProcess::start(std::vector<std::string> argv,
                                                          std::string log_path,
                                                          std::vector<std::string> env,
                                                          std::string run_as_user) {
  if (argv.empty()) return Status::InvalidArgument("empty argv");
  uid_t uid = 0;
  gid_t gid = 0;
  if (!run_as_user.empty()) {
    passwd* pw = getpwnam(run_as_user.c_str());
    if (pw == nullptr) return Status::NotFound("no user '" + run_as_user + "'");
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IoError("cannot open log " + log_path);
  if (!run_as_user.empty() && fchown(log_fd, uid, gid) != 0) {
    // Not fatal: the child writes through the inherited descriptor anyway.
  }
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(log_fd);
    return Status::IoError("fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    if (!run_as_user.empty()) {
      if (setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  ::close(log_fd);
  setpgid(pid, pid);  // also from the parent, so a kill right after start hits the group
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, std::move(log_path)));
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

bool ChildProcess::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

void ChildProcess::kill9() {
  if (reaped_) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  wait(std::chrono::seconds(10));
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int ChildProcess::terminate(std::chrono::milliseconds grace) {
  if (reaped_) return exit_code_;
  kill(pid_, SIGTERM);
  const int code = wait(grace);
  if (code != -1) return code;
  kill9();
  return exit_code_;
}

std::string ChildProcess::logTail(size_t bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string all = ss.str();
  return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/noa-test-XXXXXX";
  if (mkdtemp(tmpl) != nullptr) path_ = tmpl;
  chmod(path_.c_str(), 0755);
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace noa::testing
