#pragma once

// One action at a time per target (a database, a data directory, a model slot): backup, restore,
// snapshot and prune of the same target must never overlap. The lock is flock(LOCK_EX|LOCK_NB)
// on `<lock_dir>/<target>.lock`, so it disappears with the process that held it (a killed agent
// leaves no stuck lock); the holder writes its pid into the file so "busy" can name it.

#include <memory>
#include <string>

#include "common/status.h"

namespace noa::agent::actions {

class TargetLock {
 public:
  // Takes the lock without waiting. Busy -> StatusCode::kUnavailable with a message naming the
  // target and the holder's pid (map it to kErrBusy). `target` must be a plain name (letters,
  // digits, '.', '_', '-'; no '/'): InvalidArgument otherwise. `lock_dir` is created if missing.
  static Result<std::unique_ptr<TargetLock>> acquire(const std::string& lock_dir,
                                                     const std::string& target);

  ~TargetLock();  // releases the lock (the file stays: deleting it would race with a new holder)
  TargetLock(const TargetLock&) = delete;
  TargetLock& operator=(const TargetLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  TargetLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::string path_;
  int fd_ = -1;
};

}  // namespace noa::agent::actions
