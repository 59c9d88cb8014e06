#pragma once

// The on-disk protocol every artifact (dump, snapshot, model, manifest) is written with, so a
// crash, a full disk or a cancel never leaves a file that looks complete:
//   `<final>.partial` (O_CREAT|O_EXCL, 0600, same directory) -> write while hashing SHA-256 ->
//   fsync(file) -> rename to `<final>` -> fsync(directory).
// Until commit() succeeds the final name does not exist; abort() or the destructor of an
// uncommitted writer removes the partial. Existing files are never touched: the final name must
// not exist yet (AlreadyExists otherwise), so an earlier backup is never overwritten.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::agent::actions {

inline constexpr std::string_view kPartialSuffix = ".partial";

// Incremental SHA-256 (OpenSSL EVP) producing lowercase hex. libcrypto is opened on first use
// (agent/lazy/lazy_libs.h): check loadLibcrypto() before the first Sha256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, size_t size);
  // Ends the digest; the object must not be updated afterwards.
  std::string finishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class ArtifactWriter {
 public:
  // Creates `<final_path>.partial`. Fails (nothing created) when the final file already exists,
  // when a partial of the same name exists (another writer, or a stale one: see
  // removeStalePartials), or when the directory is not writable.
  static Result<std::unique_ptr<ArtifactWriter>> create(const std::string& final_path);

  ~ArtifactWriter();  // removes the partial unless committed
  ArtifactWriter(const ArtifactWriter&) = delete;
  ArtifactWriter& operator=(const ArtifactWriter&) = delete;

  // Writes all of `data` (retrying short writes and EINTR). ENOSPC / EIO / any error: returns a
  // Status naming the partial's path and the errno text, removes the partial, and every later
  // call fails. ENOSPC maps to StatusCode::kResourceExhausted, other errors to kIoError.
  Status write(const void* data, size_t size);
  Status write(std::string_view data) { return write(data.data(), data.size()); }

  // fsync(file), rename to the final name, fsync(directory). On failure the partial is removed.
  Status commit();
  // Removes the partial (idempotent; a no-op after commit).
  void abort();

  uint64_t bytesWritten() const { return bytes_; }
  // Valid after a successful commit(): lowercase hex SHA-256 of everything written.
  const std::string& sha256() const { return sha256_; }
  const std::string& finalPath() const { return final_path_; }
  const std::string& partialPath() const { return partial_path_; }

 private:
  ArtifactWriter(std::string final_path, std::string partial_path, int fd);
  Status fail(Status status);

  std::string final_path_;
  std::string partial_path_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
  Sha256 hash_;
  std::string sha256_;
  bool committed_ = false;
  bool failed_ = false;
};

// SHA-256 (lowercase hex) of a whole file, read in large blocks.
Result<std::string> sha256OfFile(const std::string& path);

// Writes `value` (pretty-printed, trailing newline) to `path` with the same partial/fsync/rename
// protocol. Unlike ArtifactWriter it is meant for small sidecar files; it also refuses to
// replace an existing file.
Status writeJsonAtomically(const std::string& path, const nlohmann::json& value);

// Bytes available to an unprivileged writer in the filesystem holding `dir` (statvfs f_bavail).
Result<uint64_t> freeBytes(const std::string& dir);

// Deletes `*.partial` regular files directly inside `dir` (not recursive): leftovers of a crash
// or a killed agent. Returns how many were removed. Call it at agent start, never while an
// action is writing into `dir`.
Result<int> removeStalePartials(const std::string& dir);

// fsync of a directory, so a rename or unlink inside it survives a crash.
Status fsyncDir(const std::string& dir);

}  // namespace noa::agent::actions
