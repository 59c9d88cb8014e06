#include "agent/actions/verify_action.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <vector>

#include "agent/actions/action_params.h"
#include "agent/actions/artifact_file.h"
#include "agent/actions/pg_common.h"
#include "agent/lazy/lazy_libs.h"
#include "common/process/streaming_process.h"

namespace noa::agent::actions {
namespace {

using std::chrono::milliseconds;

constexpr const char* kAction = "backup.verify";
constexpr size_t kHashBlock = 1 << 20;
constexpr size_t kArchiveBlock = 256 * 1024;
constexpr std::chrono::seconds kProgressEvery{1};

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// The cancel token, the deadline and throttled progress of one check, measured from its start.
class CheckBudget {
 public:
  explicit CheckBudget(const ArtifactCheckControl& control)
      : control_(control), start_(control.clock->now()) {}

  Status check(const std::string& what) const {
    if (control_.cancel != nullptr && control_.cancel->stopRequested()) {
      return Status::Cancelled(what + " was cancelled");
    }
    if (control_.timeout.count() > 0 && elapsed() >= control_.timeout) {
      return Status::DeadlineExceeded(what + " did not finish within " +
                                      std::to_string(control_.timeout.count()) + " ms");
    }
    return Status::Ok();
  }

  // What is left for a tool's own deadline: 0 (none) when the check has no timeout.
  milliseconds remaining() const {
    if (control_.timeout.count() <= 0) return milliseconds(0);
    return std::max(control_.timeout - elapsed(), milliseconds(1));
  }

  void progress(const std::string& phase, uint64_t done, uint64_t total, bool force = false) {
    if (!control_.on_progress) return;
    MonoTime now = control_.clock->now();
    if (!force && phase == last_phase_ && now - last_report_ < kProgressEvery) return;
    last_phase_ = phase;
    last_report_ = now;
    control_.on_progress(Progress{phase, done, total});
  }

  const StopToken* cancel() const { return control_.cancel; }

 private:
  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(control_.clock->now() - start_);
  }

  const ArtifactCheckControl& control_;
  MonoTime start_;
  std::string last_phase_;
  MonoTime last_report_{};
};

struct HashedFile {
  std::string sha256;
  uint64_t size = 0;
};

// sha256OfFile with a cancel / deadline check and a progress report between blocks: a
// multi-gigabyte dump takes long enough to re-read that a cancel must not wait for the end.
Result<HashedFile> hashFile(const std::string& path, CheckBudget& budget) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open '" + path + "': " + std::strerror(errno));
  struct CloseOnExit {
    int fd;
    ~CloseOnExit() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::IoError("stat '" + path + "': " + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const auto total = static_cast<uint64_t>(st.st_size);
  budget.progress("hash", 0, total, /*force=*/true);
  Sha256 hash;
  HashedFile out;
  std::vector<char> buf(kHashBlock);
  for (;;) {
    NOA_RETURN_IF_ERROR(budget.check("hashing '" + path + "'"));
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError("read '" + path + "': " + std::strerror(errno));
    }
    if (n == 0) break;
    hash.update(buf.data(), static_cast<size_t>(n));
    out.size += static_cast<uint64_t>(n);
    budget.progress("hash", out.size, total);
  }
  out.sha256 = hash.finishHex();
  return out;
}

ActionResult failed(const Status& status) {
  ActionResult result;
  fail(result, errorCodeFor(status), status.message());
  return result;
}

// The step both kinds share. False (with `result` filled as io_error, checksum_mismatch,
// cancelled or timeout) when the file cannot be read or is not the one catalogued.
bool hashMatches(const std::string& path, const std::string& expected_sha256, CheckBudget& budget,
                 HashedFile& hashed, ActionResult& result) {
  // libcrypto is opened on first use (agent/lazy): missing, it is a result, not an abort.
  if (Status loaded = lazy::loadLibcrypto(); !loaded.ok()) {
    fail(result, kErrToolMissing, loaded.message());
    return false;
  }
  auto read = hashFile(path, budget);
  if (!read.ok()) {
    result = failed(read.status());
    return false;
  }
  hashed = std::move(*read);
  const std::string expected = lowercase(expected_sha256);
  if (hashed.sha256 != expected) {
    fail(result, kErrChecksumMismatch,
         "'" + path + "' has sha256 " + hashed.sha256 + ", expected " + expected +
             ": the file changed or is not the one catalogued");
    result.sha256 = hashed.sha256;
    result.bytes = hashed.size;
    return false;
  }
  return true;
}

// Counts `pg_restore --list` TOC entries as the output streams by, so the listing of a large
// schema is never held in memory: every line not starting with ';' (the header and comments do).
class TocCounter {
 public:
  void feed(std::string_view chunk) {
    for (char c : chunk) {
      if (at_line_start_ && c != '\n' && c != ';') ++entries_;
      at_line_start_ = c == '\n';
    }
  }
  int64_t entries() const { return entries_; }

 private:
  bool at_line_start_ = true;
  int64_t entries_ = 0;
};

// Reads the tar + zstd archive at `path` to the end (every header and every data block, so a
// truncated or damaged stream shows), returning how many entries it holds. Corruption when
// libarchive cannot read it.
Result<int64_t> countArchiveEntries(const std::string& path, uint64_t size, CheckBudget& budget) {
  struct archive* in = archive_read_new();
  struct FreeOnExit {
    struct archive* a;
    ~FreeOnExit() { archive_read_free(a); }
  } freer{in};
  auto broken = [&](const std::string& what) {
    const char* why = archive_error_string(in);
    return Status::Corruption("'" + path + "' is not a readable tar + zstd snapshot: " + what +
                              ": " + (why != nullptr ? why : "unknown libarchive error"));
  };
  archive_read_support_format_tar(in);
  archive_read_support_filter_zstd(in);
  if (archive_read_open_filename(in, path.c_str(), kArchiveBlock) != ARCHIVE_OK) {
    return broken("open");
  }
  budget.progress("list", 0, size, /*force=*/true);
  const std::string what = "reading the archive '" + path + "'";
  int64_t entries = 0;
  for (;;) {
    NOA_RETURN_IF_ERROR(budget.check(what));
    struct archive_entry* entry = nullptr;
    int r = archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return broken("header of entry " + std::to_string(entries + 1));
    ++entries;
    const char* name = archive_entry_pathname(entry);
    for (;;) {
      const void* block = nullptr;
      size_t block_size = 0;
      la_int64_t offset = 0;
      r = archive_read_data_block(in, &block, &block_size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        return broken("data of '" + std::string(name != nullptr ? name : "?") + "'");
      }
      budget.progress("list", static_cast<uint64_t>(archive_filter_bytes(in, -1)), size);
      NOA_RETURN_IF_ERROR(budget.check(what));
    }
  }
  // Every snapshot holds at least its root directory ("."): an empty archive is not one.
  if (entries == 0) return Status::Corruption("'" + path + "' holds no archive entries");
  return entries;
}

ActionResult verifySnapshotFile(const std::string& path, const std::string& expected_sha256,
                                const ArtifactCheckControl& control) {
  CheckBudget budget(control);
  ActionResult result;
  HashedFile hashed;
  // Before hashing: a missing libarchive (opened on first use) should not cost a full read.
  if (Status loaded = lazy::loadLibarchive(); !loaded.ok()) {
    fail(result, kErrToolMissing, loaded.message());
    return result;
  }
  if (!hashMatches(path, expected_sha256, budget, hashed, result)) return result;
  auto entries = countArchiveEntries(path, hashed.size, budget);
  if (!entries.ok()) return failed(entries.status());
  result.ok = true;
  result.bytes = hashed.size;
  result.sha256 = hashed.sha256;
  result.details = {{"kind", kVerifyKindSnapshot},
                    {"sha256", hashed.sha256},
                    {"size", hashed.size},
                    {"archive_entries", *entries}};
  return result;
}

bool isHexDigest(const std::string& text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<VerifyParams> VerifyParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(ParamReader r, ParamReader::open(json, kAction,
                                                        {"artifact", "sha256", "kind", "timeout_ms",
                                                         "pg_restore", "lock_dir", "target"}));
  VerifyParams p;
  NOA_RETURN_IF_ERROR(r.str("artifact", p.artifact, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.str("sha256", p.sha256, /*required=*/true));
  NOA_RETURN_IF_ERROR(r.str("kind", p.kind));
  NOA_RETURN_IF_ERROR(r.integer("timeout_ms", p.timeout_ms, 0, INT64_MAX / 2));
  NOA_RETURN_IF_ERROR(r.str("pg_restore", p.pg_restore));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_RETURN_IF_ERROR(r.str("target", p.target));
  if (!isHexDigest(p.sha256)) {
    return Status::InvalidArgument(
        std::string(kAction) + ": param 'sha256' must be 64 hex digits, got '" + p.sha256 + "'");
  }
  p.sha256 = lowercase(p.sha256);
  if (p.kind.empty()) {
    if (p.artifact.ends_with(".dump")) {
      p.kind = kVerifyKindPgDump;
    } else if (p.artifact.ends_with(".tar.zst")) {
      p.kind = kVerifyKindSnapshot;
    } else {
      return Status::InvalidArgument(std::string(kAction) + ": cannot tell the kind of '" +
                                     p.artifact +
                                     "' from its name (.dump or .tar.zst); give param 'kind' "
                                     "(pg_dump or snapshot)");
    }
  } else if (p.kind != kVerifyKindPgDump && p.kind != kVerifyKindSnapshot) {
    return Status::InvalidArgument(std::string(kAction) + ": param 'kind' = '" + p.kind +
                                   "' must be pg_dump or snapshot");
  }
  return p;
}

ActionResult verifyPgDumpFile(const std::string& path, const std::string& expected_sha256,
                              const std::string& pg_restore, const ArtifactCheckControl& control) {
  CheckBudget budget(control);
  ActionResult result;
  HashedFile hashed;
  if (!hashMatches(path, expected_sha256, budget, hashed, result)) return result;

  if (Status s = budget.check("pg_restore --list"); !s.ok()) return failed(s);
  budget.progress("list", 0, hashed.size, /*force=*/true);
  ProcessSpec list;
  list.argv = {pg_restore, "--list", path};
  list.timeout = budget.remaining();
  list.max_output_bytes = 4096;  // stderr tail only: stdout goes to the counter
  TocCounter toc;
  OutputSink count = [&toc](std::string_view chunk) {
    toc.feed(chunk);
    return Status::Ok();
  };
  auto listed = runProcessStreaming(list, count, budget.cancel());
  if (!listed.ok()) {
    fail(result, listed.status().code() == StatusCode::kNotFound ? kErrToolMissing : kErrToolFailed,
         "cannot run " + pg_restore + " to list '" + path + "': " + listed.status().message());
    return result;
  }
  if (toolFailed("pg_restore --list", listed->process, result)) {
    // A cancel or the deadline keep their codes; any other failure means the file is unreadable.
    if (result.error_code == kErrToolFailed) {
      fail(result, kErrVerifyFailed,
           "'" + path + "' is not a readable pg_dump archive: " + result.error);
    }
    return result;
  }
  result.ok = true;
  result.bytes = hashed.size;
  result.sha256 = hashed.sha256;
  result.details = {{"kind", kVerifyKindPgDump},
                    {"sha256", hashed.sha256},
                    {"size", hashed.size},
                    {"toc_entries", toc.entries()}};
  return result;
}

ActionResult runVerify(const VerifyParams& params, const ActionContext& ctx) {
  const MonoTime started = ctx.clock->now();
  auto finish = [&](ActionResult result) {
    result.artifact_path = params.artifact;
    result.duration = std::chrono::duration_cast<milliseconds>(ctx.clock->now() - started);
    return result;
  };
  struct stat st {};
  if (::stat(params.artifact.c_str(), &st) != 0) {
    const int err = errno;
    ActionResult missing;
    fail(missing, kErrIo,
         "artifact '" + params.artifact + "' " +
             (err == ENOENT ? std::string("not found")
                            : "cannot be read: " + std::string(std::strerror(err))));
    return finish(missing);
  }
  if (!S_ISREG(st.st_mode)) {
    ActionResult not_file;
    fail(not_file, kErrIo, "artifact '" + params.artifact + "' is not a regular file");
    return finish(not_file);
  }
  ArtifactCheckControl control;
  control.cancel = ctx.cancel;
  control.clock = ctx.clock;
  control.timeout = effectiveTimeout(ctx, params.timeout_ms);
  control.on_progress = ctx.on_progress;
  ActionResult result =
      params.kind == kVerifyKindSnapshot
          ? verifySnapshotFile(params.artifact, params.sha256, control)
          : verifyPgDumpFile(params.artifact, params.sha256, params.pg_restore, control);
  if (result.ok && ctx.on_progress) ctx.on_progress(Progress{"done", result.bytes, result.bytes});
  return finish(std::move(result));
}

}  // namespace noa::agent::actions
