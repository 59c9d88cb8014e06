#include "agent/collectors/small_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace noa::agent {
namespace {

// The messages end up in report attributes, so they say what happened in plain words; ESRCH is
// what a /proc file of a process that exited while we read it answers.
Status errnoStatus(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
    case ENOTDIR:
      return Status::NotFound(path + ": not found");
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(path + ": permission denied");
    default:
      return Status::IoError(path + ": " + std::strerror(err));
  }
}

}  // namespace

Result<std::string> readSmallFile(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus(path, errno);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return errnoStatus(path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return Status::ResourceExhausted(path + ": larger than " + std::to_string(max_bytes) +
                                       " bytes");
    }
  }
  ::close(fd);
  return out;
}

}  // namespace noa::agent
