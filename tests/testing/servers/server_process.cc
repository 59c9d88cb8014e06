#include "tests/testing/servers/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace noa::testing {

Result<int> pickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IoError(std::string("bind port 0: ") + std::strerror(err));
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Result<std::string> makeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return Status::IoError("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  return tmpl;
}

Status chownTree(const std::string& path, uid_t uid, gid_t gid) {
  namespace fs = std::filesystem;
  if (::chown(path.c_str(), uid, gid) != 0) {
    return Status::IoError("chown " + path + ": " + std::strerror(errno));
  }
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (::lchown(it->path().c_str(), uid, gid) != 0) {
      return Status::IoError("chown " + it->path().string() + ": " + std::strerror(errno));
    }
  }
  if (ec) return Status::IoError("walk " + path + ": " + ec.message());
  return Status::Ok();
}

Status ServerProcess::spawn(const SpawnOptions& options) {
  if (running()) return Status::FailedPrecondition("server process already running");
  if (options.argv.empty()) return Status::InvalidArgument("empty argv");
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd = ::open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IoError("open " + options.log_path + ": " + std::strerror(errno));
  if (options.uid) {
    // The server writes its log as the dropped user.
    if (::fchown(log_fd, *options.uid, options.gid.value_or(static_cast<gid_t>(-1))) != 0) {
      ::close(log_fd);
      return Status::IoError("chown " + options.log_path + ": " + std::strerror(errno));
    }
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return Status::IoError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    if (options.gid && (::setgroups(0, nullptr) != 0 || ::setgid(*options.gid) != 0)) _exit(126);
    if (options.uid && ::setuid(*options.uid) != 0) _exit(126);
    // After the credential change, which clears it: a crashed test must not leave servers.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(125);
    ::execvp(argv[0], argv.data());
    _exit(127);
  }
  ::setpgid(pid, pid);
  ::close(log_fd);
  pid_ = pid;
  return Status::Ok();
}

bool ServerProcess::exited() {
  if (!running()) return true;
  int status;
  pid_t w = ::waitpid(pid_, &status, WNOHANG);
  if (w == pid_ || (w < 0 && errno == ECHILD)) {
    ::kill(-pid_, SIGKILL);  // leftovers of the group, if any
    pid_ = -1;
    return true;
  }
  return false;
}

Status ServerProcess::stop(int sig, std::chrono::milliseconds grace) {
  if (!running()) return Status::Ok();
  ::kill(pid_, sig);
  auto until = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < until) {
    if (exited()) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill();
  return Status::DeadlineExceeded("server did not stop within the grace period; killed");
}

void ServerProcess::kill() {
  if (!running()) return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string readTail(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

}  // namespace noa::testing
