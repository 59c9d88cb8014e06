#pragma once

// The lease guard's fence state on disk (<state_dir>/fence.json), so a restarted agent keeps a
// controller-ordered fence and applies it again. Written atomically (tmp, fsync, rename,
// fsync(dir)): a crash leaves the old state or the new one, never half of either.

#include <optional>
#include <string>

#include "agent/runtime/lease_guard.h"
#include "common/status.h"

namespace noa::agent {

inline constexpr char kFenceStateFile[] = "fence.json";

class FenceStateFile {
 public:
  explicit FenceStateFile(std::string state_dir);

  // nullopt when there is no file (never fenced, or the fence was lifted). Corruption when the
  // file cannot be read as a fence record.
  Result<std::optional<FenceRecord>> load() const;
  // A record with reason kNone removes the file.
  Status save(const FenceRecord& record) const;

  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace noa::agent
