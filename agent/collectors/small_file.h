#pragma once

// Reading the small pseudo-files of /proc and /sys/fs/cgroup.

#include <cstddef>
#include <string>

#include "common/status.h"

namespace noa::agent {

// Reads the whole file, up to `max_bytes` (pseudo-files are small; a bigger one is refused with
// ResourceExhausted instead of being truncated silently). ENOENT/ESRCH -> NotFound
// ("<path>: not found"), EACCES/EPERM -> PermissionDenied ("<path>: permission denied"),
// anything else -> IoError ("<path>: <strerror>").
Result<std::string> readSmallFile(const std::string& path, std::size_t max_bytes = 64 * 1024);

}  // namespace noa::agent
