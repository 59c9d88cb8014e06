#include "agent/actions/target_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace noa::agent::actions {
namespace {

bool isPlainName(const std::string& s) {
  if (s.empty() || s.size() > 200 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string readHolder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return "unknown";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown" : pid;
}

}  // namespace

Result<std::unique_ptr<TargetLock>> TargetLock::acquire(const std::string& lock_dir,
                                                        const std::string& target) {
  if (!isPlainName(target)) {
    return Status::InvalidArgument("lock target '" + target +
                                   "' must be letters, digits, '.', '_' or '-'");
  }
  std::error_code ec;
  std::filesystem::create_directories(lock_dir, ec);
  if (ec) {
    return Status::IoError("create lock directory '" + lock_dir + "': " + ec.message());
  }
  std::string path = lock_dir + "/" + target + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::IoError("open lock '" + path + "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = err == EWOULDBLOCK ? readHolder(fd) : "";
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status::Unavailable("target '" + target + "' is busy: another action (pid " + holder +
                                 ") holds " + path);
    }
    return Status::IoError("flock '" + path + "': " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  // The pid is only for the busy message: failing to write it must not fail the action.
  if (::ftruncate(fd, 0) == 0) {
    ssize_t ignored = ::pwrite(fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return std::unique_ptr<TargetLock>(new TargetLock(std::move(path), fd));
}

TargetLock::~TargetLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace noa::agent::actions
