#include "agent/replication/detached_spawn.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>

extern char** environ;

namespace noa::agent::replication {
namespace {

// What the two children report through the status pipe (each write is atomic: < PIPE_BUF).
struct ChildMessage {
  int kind = 0;   // kPid from the middle child, kError from the server child
  int value = 0;  // the pid, or errno
  int stage = 0;
};
constexpr int kPid = 1;
constexpr int kError = 2;
enum Stage : int { kStageChdir = 1, kStageSetgid, kStageSetuid, kStageExec, kStageFork };

void send(int fd, ChildMessage m) {
  ssize_t ignored = ::write(fd, &m, sizeof(m));
  (void)ignored;
}

std::vector<std::string> serverEnv() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("NOA_") || entry.starts_with("PGPASSWORD=")) continue;
    out.emplace_back(entry);
  }
  return out;
}

[[noreturn]] void serverChild(const DetachedSpec& spec, char* const* argv, char* const* envp,
                              int devnull, int log_fd, int status_w) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(sig, SIG_DFL);
  ::dup2(devnull, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  // The server must not keep the agent's sockets and files open for its whole life.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  auto fail = [status_w](int stage) {
    send(status_w, {kError, errno, stage});
    ::_exit(127);
  };
  if (!spec.working_dir.empty() && ::chdir(spec.working_dir.c_str()) != 0) fail(kStageChdir);
  if (spec.gid && (::setgroups(0, nullptr) != 0 || ::setgid(*spec.gid) != 0)) fail(kStageSetgid);
  if (spec.uid && ::setuid(*spec.uid) != 0) fail(kStageSetuid);
  ::execve(argv[0], argv, envp);
  fail(kStageExec);
  ::_exit(127);
}

Status stageError(const DetachedSpec& spec, const ChildMessage& m) {
  std::string what;
  switch (m.stage) {
    case kStageChdir:
      what = "chdir '" + spec.working_dir + "'";
      break;
    case kStageSetgid:
      what = "setgid " + std::to_string(spec.gid.value_or(0));
      break;
    case kStageSetuid:
      what = "setuid " + std::to_string(spec.uid.value_or(0));
      break;
    case kStageFork:
      what = "fork";
      break;
    default:
      what = "exec '" + spec.argv[0] + "'";
      break;
  }
  std::string msg = what + ": " + std::strerror(m.value);
  if (m.value == ENOENT) return Status::NotFound(msg);
  if (m.value == EACCES || m.value == EPERM) return Status::PermissionDenied(msg);
  return Status::IoError(msg);
}

}  // namespace

Result<pid_t> spawnDetached(const DetachedSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return Status::InvalidArgument("detached spawn needs an absolute program path");
  }
  // Everything the children touch is allocated before fork (other threads may hold malloc's lock).
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = serverEnv();
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int log_fd = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) return Status::IoError("open " + spec.log_path + ": " + std::strerror(errno));
  if (spec.uid && ::fchown(log_fd, *spec.uid, spec.gid.value_or(static_cast<gid_t>(-1))) != 0) {
    int err = errno;
    ::close(log_fd);
    return Status::IoError("chown " + spec.log_path + ": " + std::strerror(err));
  }
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int fds[2];
  if (devnull < 0 || ::pipe2(fds, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(log_fd);
    if (devnull >= 0) ::close(devnull);
    return Status::IoError(std::string("pipe: ") + std::strerror(err));
  }
  const int status_r = fds[0], status_w = fds[1];

  pid_t middle = ::fork();
  if (middle == 0) {
    ::setsid();
    pid_t server = ::fork();
    if (server == 0) serverChild(spec, argv.data(), envp.data(), devnull, log_fd, status_w);
    if (server < 0) {
      send(status_w, {kError, errno, kStageFork});
    } else {
      send(status_w, {kPid, server, 0});
    }
    ::_exit(0);
  }
  int fork_err = errno;
  ::close(status_w);
  ::close(log_fd);
  ::close(devnull);
  if (middle < 0) {
    ::close(status_r);
    return Status::IoError(std::string("fork: ") + std::strerror(fork_err));
  }
  int ignored;
  while (::waitpid(middle, &ignored, 0) < 0 && errno == EINTR) {
  }
  // EOF comes once the server has exec'd (its copy of the pipe is close-on-exec) or died.
  pid_t server = -1;
  Status failed = Status::Ok();
  ChildMessage m;
  while (true) {
    ssize_t n = ::read(status_r, &m, sizeof(m));
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof(m))) break;
    if (m.kind == kPid) server = m.value;
    if (m.kind == kError && failed.ok()) failed = stageError(spec, m);
  }
  ::close(status_r);
  if (!failed.ok()) return failed;
  if (server <= 0) return Status::Internal("detached spawn: the server's pid was not reported");
  return server;
}

bool processAlive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  // "<pid> (<comm>) <state> ...": comm may hold spaces and parentheses, the state follows the last
  // ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return true;
  return text[close + 2] != 'Z' && text[close + 2] != 'X';
}

}  // namespace noa::agent::replication
