#include "agent/actions/snapshot_action.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "agent/actions/action_params.h"
#include "agent/actions/artifact_file.h"
#include "agent/actions/pg_common.h"
#include "agent/actions/target_lock.h"
#include "agent/lazy/lazy_libs.h"
#include "common/log.h"

namespace noa::agent::actions {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr size_t kBlock = 256 * 1024;
constexpr const char* kRefuseLivePg =
    "stop the server or use backup.pg_dump / a physical backup (pg_basebackup, pgBackRest)";

std::string errnoText(int err) { return std::strerror(err); }

std::string lockTarget(const std::string& prefix, const std::string& dir) {
  std::string base = fs::path(dir).lexically_normal().filename().string();
  if (base.empty()) base = fs::path(dir).lexically_normal().parent_path().filename().string();
  std::string out = prefix;
  for (char c : base) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    out.push_back(ok ? c : '_');
  }
  return out;
}

// Cancel, deadline and throttled progress for one run, on the context's clock.
class RunControl {
 public:
  RunControl(const ActionContext& ctx, std::string what)
      : ctx_(ctx),
        what_(std::move(what)),
        start_(ctx.clock->now()),
        timeout_(effectiveTimeout(ctx, 0)) {}

  Status check() const {
    if (ctx_.cancel != nullptr && ctx_.cancel->stopRequested()) {
      return Status::Cancelled(what_ + " was cancelled");
    }
    if (timeout_.count() > 0 && ctx_.clock->now() - start_ >= timeout_) {
      return Status::DeadlineExceeded(what_ + " did not finish within " +
                                      std::to_string(timeout_.count()) + " ms");
    }
    return Status::Ok();
  }

  void progress(const std::string& phase, uint64_t done, uint64_t total, bool force = false) {
    if (!ctx_.on_progress) return;
    MonoTime now = ctx_.clock->now();
    if (!force && phase == last_phase_ && now - last_report_ < std::chrono::seconds(1)) return;
    last_phase_ = phase;
    last_report_ = now;
    ctx_.on_progress(Progress{phase, done, total});
  }

  milliseconds elapsed() const {
    return std::chrono::duration_cast<milliseconds>(ctx_.clock->now() - start_);
  }

 private:
  const ActionContext& ctx_;
  std::string what_;
  MonoTime start_;
  milliseconds timeout_;
  std::string last_phase_;
  MonoTime last_report_{};
};

Result<std::unique_ptr<TargetLock>> lockFor(const std::string& lock_dir,
                                            const std::string& target) {
  if (lock_dir.empty()) return std::unique_ptr<TargetLock>();
  return TargetLock::acquire(lock_dir, target);
}

bool isDir(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// ---- create ------------------------------------------------------------------------------

struct Sink {
  ArtifactWriter* writer;
  Status status;
};

la_ssize_t writeToArtifact(struct archive* a, void* data, const void* buf, size_t size) {
  auto* sink = static_cast<Sink*>(data);
  Status s = sink->writer->write(buf, size);
  if (!s.ok()) {
    sink->status = s;
    archive_set_error(a, EIO, "%s", s.message().c_str());
    return -1;
  }
  return static_cast<la_ssize_t>(size);
}

struct TreeStats {
  uint64_t bytes = 0;
  uint64_t files = 0;
};

// Size of the regular files under `root` without following symlinks, for progress totals.
TreeStats scanTree(const std::string& root) {
  TreeStats stats;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
      stats.bytes += it->file_size(ec);
      stats.files++;
    }
  }
  return stats;
}

struct ArchiveCounts {
  uint64_t entries = 0;
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t skipped = 0;  // sockets: tar cannot hold them
  std::vector<std::string> warnings;
};

// Archives `root` into `writer`. Paths in the archive are relative to `root` ("." is the root
// itself, so its mode and times are restored too).
Status writeArchive(const std::string& root, const SnapshotCreateParams& params,
                    ArtifactWriter& writer, RunControl& run, uint64_t total,
                    ArchiveCounts& counts) {
  Sink sink{&writer, Status::Ok()};
  struct archive* out = archive_write_new();
  struct archive* disk = archive_read_disk_new();
  struct archive_entry_linkresolver* links = archive_entry_linkresolver_new();
  struct archive_entry* entry = archive_entry_new();
  auto cleanup = [&] {
    archive_entry_free(entry);
    archive_entry_linkresolver_free(links);
    archive_read_free(disk);
    archive_write_free(out);
  };
  auto fail = [&](const std::string& what, struct archive* a) {
    Status s =
        !sink.status.ok()
            ? sink.status
            : Status::IoError(what + ": " +
                              (archive_error_string(a) != nullptr ? archive_error_string(a)
                                                                  : "unknown libarchive error"));
    cleanup();
    return s;
  };

  archive_write_set_format_pax_restricted(out);
  archive_write_add_filter_zstd(out);
  archive_write_set_bytes_in_last_block(out, 1);  // no tar padding after compression
  if (archive_write_set_filter_option(out, "zstd", "compression-level",
                                      std::to_string(params.zstd_level).c_str()) != ARCHIVE_OK ||
      archive_write_set_filter_option(out, "zstd", "threads",
                                      std::to_string(params.threads).c_str()) != ARCHIVE_OK) {
    return fail("zstd options", out);
  }
  if (archive_write_open2(out, &sink, nullptr, writeToArtifact, nullptr, nullptr) != ARCHIVE_OK) {
    return fail("open archive", out);
  }
  archive_entry_linkresolver_set_strategy(links, archive_format(out));

  archive_read_disk_set_symlink_physical(disk);  // archive links as links, never follow them
  archive_read_disk_set_standard_lookup(disk);
  if (archive_read_disk_open(disk, root.c_str()) != ARCHIVE_OK) return fail("read " + root, disk);

  std::vector<char> buf(kBlock);
  uint64_t done = 0;
  for (;;) {
    if (Status s = run.check(); !s.ok()) {
      cleanup();
      return s;
    }
    archive_entry_clear(entry);
    int r = archive_read_next_header2(disk, entry);
    if (r == ARCHIVE_EOF) break;
    if (r == ARCHIVE_WARN && counts.warnings.size() < 10) {
      counts.warnings.push_back(archive_error_string(disk));
    } else if (r < ARCHIVE_WARN) {
      return fail("read " + root, disk);
    }
    archive_read_disk_descend(disk);

    std::string path = archive_entry_pathname(entry);
    std::string rel = path == root ? "." : path.substr(root.size() + 1);
    archive_entry_copy_pathname(entry, rel.c_str());
    if (archive_entry_filetype(entry) == AE_IFSOCK) {
      counts.skipped++;
      continue;
    }
    struct archive_entry* to_write = entry;
    struct archive_entry* spare = nullptr;
    archive_entry_linkify(links, &to_write, &spare);  // second name of an inode -> hardlink
    if (spare != nullptr) archive_entry_free(spare);
    if (to_write == nullptr) continue;
    r = archive_write_header(out, to_write);
    if (r < ARCHIVE_WARN) return fail("write header for " + rel, out);
    counts.entries++;
    if (archive_entry_filetype(to_write) != AE_IFREG) continue;
    counts.files++;
    if (archive_entry_size(to_write) <= 0) continue;  // empty, or a hardlink's second name
    for (;;) {
      la_ssize_t n = archive_read_data(disk, buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) return fail("read " + root + "/" + rel, disk);
      if (archive_write_data(out, buf.data(), static_cast<size_t>(n)) < 0) {
        return fail("write " + rel, out);
      }
      counts.bytes += static_cast<uint64_t>(n);
      done += static_cast<uint64_t>(n);
      run.progress("archive", done, total);
      if (Status s = run.check(); !s.ok()) {
        cleanup();
        return s;
      }
    }
  }
  if (archive_write_close(out) != ARCHIVE_OK) return fail("finish archive", out);
  cleanup();
  return Status::Ok();
}

// ---- restore -----------------------------------------------------------------------------

struct ExtractCounts {
  uint64_t entries = 0;
  uint64_t bytes = 0;
  std::vector<std::string> warnings;
};

// Extracts `artifact` into the calling thread's working directory.
Status extractHere(const std::string& artifact, RunControl& run, uint64_t total,
                   ExtractCounts& counts) {
  struct archive* in = archive_read_new();
  struct archive* out = archive_write_disk_new();
  auto cleanup = [&] {
    archive_read_free(in);
    archive_write_free(out);
  };
  auto fail = [&](const std::string& what, struct archive* a) {
    Status s =
        Status::Corruption(what + ": " +
                           (archive_error_string(a) != nullptr ? archive_error_string(a)
                                                               : "unknown libarchive error"));
    cleanup();
    return s;
  };
  archive_read_support_format_tar(in);
  archive_read_support_filter_zstd(in);
  int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
  if (::geteuid() == 0) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(out, flags);
  archive_write_disk_set_standard_lookup(out);
  if (archive_read_open_filename(in, artifact.c_str(), kBlock) != ARCHIVE_OK) {
    return fail("open " + artifact, in);
  }
  uint64_t done = 0;
  struct archive_entry* entry = nullptr;
  for (;;) {
    if (Status s = run.check(); !s.ok()) {
      cleanup();
      return s;
    }
    int r = archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return fail("read " + artifact, in);
    const std::string name = archive_entry_pathname(entry);
    r = archive_write_header(out, entry);
    if (r < ARCHIVE_WARN) return fail("extract '" + name + "'", out);
    if (r == ARCHIVE_WARN && counts.warnings.size() < 10) {
      counts.warnings.push_back(name + ": " + archive_error_string(out));
    }
    counts.entries++;
    for (;;) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      r = archive_read_data_block(in, &block, &size, &offset);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) return fail("read '" + name + "'", in);
      if (archive_write_data_block(out, block, size, offset) < ARCHIVE_WARN) {
        return fail("write '" + name + "'", out);
      }
      counts.bytes += size;
      done += size;
      run.progress("extract", done, total);
    }
    if (archive_write_finish_entry(out) < ARCHIVE_WARN) return fail("finish '" + name + "'", out);
  }
  // Directory modes and times are applied here, after their contents were written.
  if (archive_write_close(out) != ARCHIVE_OK) return fail("finish extraction", out);
  cleanup();
  return Status::Ok();
}

// Extraction with paths relative to `dir` without touching the agent's working directory: the
// helper thread gets its own fs context (unshare(CLONE_FS)) and chdir()s there. Extracting
// relative paths is what lets libarchive's NOABSOLUTEPATHS/NODOTDOT guards apply unchanged.
Status extractInto(const std::string& dir, const std::string& artifact, RunControl& run,
                   uint64_t total, ExtractCounts& counts) {
  Status status;
  std::thread worker([&] {
    if (::unshare(CLONE_FS) != 0) {
      status = Status::Internal("unshare(CLONE_FS): " + errnoText(errno));
      return;
    }
    if (::chdir(dir.c_str()) != 0) {
      status = Status::IoError("chdir " + dir + ": " + errnoText(errno));
      return;
    }
    status = extractHere(artifact, run, total, counts);
  });
  worker.join();
  return status;
}

Status fsyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::IoError("open " + path + " for fsync: " + errnoText(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError("fsync " + path + ": " + errnoText(err));
  return Status::Ok();
}

// fsync of every file and directory under `root` (symlinks are covered by their directory).
Status fsyncTree(const std::string& root) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (type == fs::file_type::regular) {
      NOA_RETURN_IF_ERROR(fsyncPath(it->path().string(), 0));
    } else if (type == fs::file_type::directory) {
      NOA_RETURN_IF_ERROR(fsyncPath(it->path().string(), O_DIRECTORY));
    }
  }
  if (ec) return Status::IoError("walk " + root + ": " + ec.message());
  return fsyncPath(root, O_DIRECTORY);
}

// Puts `staged` in place of `target`. Returns how ("exchange", "rename" or "new").
Result<std::string> swapIn(const std::string& staged, const std::string& target,
                           const std::string& stamp) {
  if (::access(target.c_str(), F_OK) != 0) {
    if (::rename(staged.c_str(), target.c_str()) != 0) {
      return Status::IoError("rename " + staged + " -> " + target + ": " + errnoText(errno));
    }
    return std::string("new");
  }
  if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    return std::string("exchange");  // `staged` now holds the old tree
  }
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
    return Status::IoError("renameat2(RENAME_EXCHANGE) " + staged + " <-> " + target + ": " +
                           errnoText(errno));
  }
  const std::string old = target + ".old-" + stamp;
  if (::rename(target.c_str(), old.c_str()) != 0) {
    return Status::IoError("rename " + target + " -> " + old + ": " + errnoText(errno));
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) {
    int err = errno;
    if (::rename(old.c_str(), target.c_str()) != 0) {
      return Status::IoError("rename " + staged + " -> " + target + ": " + errnoText(err) +
                             "; moving the old tree back also failed, it is at " + old);
    }
    return Status::IoError("rename " + staged + " -> " + target + ": " + errnoText(err));
  }
  if (::rename(old.c_str(), staged.c_str()) != 0) {
    return Status::IoError("rename " + old + " -> " + staged + ": " + errnoText(errno));
  }
  return std::string("rename");
}

}  // namespace

std::optional<pid_t> livePostmasterPid(const std::string& dir) {
  std::ifstream in(dir + "/postmaster.pid");
  long pid = 0;
  if (!in || !(in >> pid) || pid <= 0) return std::nullopt;
  if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) return static_cast<pid_t>(pid);
  return std::nullopt;
}

Result<SnapshotCreateParams> SnapshotCreateParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(auto r, ParamReader::open(json, "snapshot.create",
                                                 {"source_dir", "snapshot_dir", "name",
                                                  "zstd_level", "threads", "lock_dir", "target"}));
  SnapshotCreateParams p;
  p.lock_dir = kDefaultLockDir;
  NOA_RETURN_IF_ERROR(r.str("source_dir", p.source_dir, true));
  NOA_RETURN_IF_ERROR(r.str("snapshot_dir", p.snapshot_dir, true));
  NOA_RETURN_IF_ERROR(r.str("name", p.name));
  int64_t level = p.zstd_level;
  int64_t threads = p.threads;
  NOA_RETURN_IF_ERROR(r.integer("zstd_level", level, 1, 19));
  NOA_RETURN_IF_ERROR(r.integer("threads", threads, 0, 64));
  p.zstd_level = static_cast<int>(level);
  p.threads = static_cast<int>(threads);
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_RETURN_IF_ERROR(r.str("target", p.target));
  if (!p.name.empty() && !isPlainFileName(p.name)) {
    return Status::InvalidArgument("snapshot.create: param 'name' must be a plain file name");
  }
  return p;
}

Result<SnapshotRestoreParams> SnapshotRestoreParams::fromJson(const nlohmann::json& json) {
  NOA_ASSIGN_OR_RETURN(auto r, ParamReader::open(json, "snapshot.restore",
                                                 {"artifact", "expected_sha256", "target_dir",
                                                  "lock_dir", "target"}));
  SnapshotRestoreParams p;
  p.lock_dir = kDefaultLockDir;
  NOA_RETURN_IF_ERROR(r.str("artifact", p.artifact, true));
  NOA_RETURN_IF_ERROR(r.str("expected_sha256", p.expected_sha256, true));
  NOA_RETURN_IF_ERROR(r.str("target_dir", p.target_dir, true));
  NOA_RETURN_IF_ERROR(r.str("lock_dir", p.lock_dir));
  NOA_RETURN_IF_ERROR(r.str("target", p.target));
  bool hex = p.expected_sha256.size() == 64;
  for (char c : p.expected_sha256) hex = hex && std::isxdigit(static_cast<unsigned char>(c));
  if (!hex) {
    return Status::InvalidArgument(
        "snapshot.restore: param 'expected_sha256' must be 64 hex digits");
  }
  return p;
}

ActionResult runSnapshotCreate(const SnapshotCreateParams& params, const ActionContext& ctx) {
  ActionResult result;
  RunControl run(ctx, "snapshot.create");
  auto finish = [&](ActionResult& r) -> ActionResult {
    r.duration = run.elapsed();
    return r;
  };
  // libarchive is opened on first use (agent/lazy): missing, it is a result, not an abort.
  if (Status loaded = lazy::loadLibarchive(); !loaded.ok()) {
    fail(result, kErrToolMissing, loaded.message());
    return finish(result);
  }
  std::error_code ec;
  fs::path source = fs::canonical(params.source_dir, ec);
  if (ec || !fs::is_directory(source)) {
    fail(result, kErrInvalidParams, "source_dir " + params.source_dir + " is not a directory");
    return finish(result);
  }
  fs::path snapshots = fs::canonical(params.snapshot_dir, ec);
  if (ec || !fs::is_directory(snapshots)) {
    fail(result, kErrInvalidParams, "snapshot_dir " + params.snapshot_dir + " is not a directory");
    return finish(result);
  }
  const std::string src = source.string();
  const std::string snap = snapshots.string();
  if (snap == src || snap.rfind(src + "/", 0) == 0) {
    fail(result, kErrInvalidParams,
         "snapshot_dir " + snap + " is inside source_dir " + src +
             ": the snapshot would archive itself");
    return finish(result);
  }
  if (auto pid = livePostmasterPid(src)) {
    fail(result, kErrRefused,
         src + " is the data directory of a running PostgreSQL (postmaster.pid names live pid " +
             std::to_string(*pid) + "); a file copy of it is not consistent: " + kRefuseLivePg);
    return finish(result);
  }
  auto lock =
      lockFor(params.lock_dir, params.target.empty() ? lockTarget("dir.", src) : params.target);
  if (!lock.ok()) {
    fail(result, errorCodeFor(lock.status()), lock.status().message());
    return finish(result);
  }

  const WallTime started = ctx.clock->wallNow();
  const std::string name = params.name.empty()
                               ? source.filename().string() + "-" + compactUtc(started) + ".tar.zst"
                               : params.name;
  const std::string final_path = snap + "/" + name;
  if (::access((final_path + ".json").c_str(), F_OK) == 0) {
    fail(result, kErrInvalidParams, "a manifest " + final_path + ".json already exists");
    return finish(result);
  }
  auto writer = ArtifactWriter::create(final_path);
  if (!writer.ok()) {
    fail(result, errorCodeFor(writer.status()), writer.status().message());
    return finish(result);
  }
  // After create: the partial reserves the name, so a claimed path is this command's alone.
  if (Status claimed = claimArtifact(ctx, final_path); !claimed.ok()) {
    (*writer)->abort();
    fail(result, kErrIo, "cannot journal the artifact path: " + claimed.message());
    return finish(result);
  }

  TreeStats estimate = scanTree(src);
  run.progress("archive", 0, estimate.bytes, true);
  ArchiveCounts counts;
  Status s = writeArchive(src, params, **writer, run, estimate.bytes, counts);
  if (s.ok()) {
    run.progress("fsync", counts.bytes, estimate.bytes, true);
    s = (*writer)->commit();
  }
  if (!s.ok()) {
    (*writer)->abort();
    log::warn("snapshot failed",
              {{"source", src}, {"artifact", final_path}, {"error", s.message()}});
    fail(result, errorCodeFor(s),
         "snapshot of " + src + " failed: " + s.message() +
             (s.code() == StatusCode::kResourceExhausted
                  ? " (partial removed; earlier snapshots untouched)"
                  : ""));
    return finish(result);
  }

  nlohmann::json manifest = {
      {"kind", "snapshot"},
      {"format", "tar(pax)+zstd"},
      {"tool", std::string("libarchive ") + archive_version_string()},
      {"sha256", (*writer)->sha256()},
      {"size", (*writer)->bytesWritten()},
      {"file_count", counts.files},
      {"entry_count", counts.entries},
      {"total_bytes", counts.bytes},
      {"skipped_sockets", counts.skipped},
      {"source_dir", src},
      {"zstd_level", params.zstd_level},
      {"threads", params.threads},
      {"started_at", formatRfc3339(started)},
      {"finished_at", formatRfc3339(ctx.clock->wallNow())},
  };
  if (!ctx.command_id.empty()) manifest["command_id"] = ctx.command_id;
  if (!counts.warnings.empty()) manifest["warnings"] = counts.warnings;
  if (Status m = writeJsonAtomically(final_path + ".json", manifest); !m.ok()) {
    // Without its manifest the artifact is not catalogued: remove it rather than leave an orphan.
    ::unlink(final_path.c_str());
    (void)fsyncDir(snap);
    fail(result, errorCodeFor(m), "writing the manifest failed: " + m.message());
    return finish(result);
  }
  run.progress("done", counts.bytes, estimate.bytes, true);
  result.ok = true;
  result.bytes = (*writer)->bytesWritten();
  result.sha256 = (*writer)->sha256();
  result.artifact_path = final_path;
  result.details = manifest;
  log::info("snapshot created", {{"source", src},
                                 {"artifact", final_path},
                                 {"bytes", result.bytes},
                                 {"files", counts.files}});
  return finish(result);
}

ActionResult runSnapshotRestore(const SnapshotRestoreParams& params, const ActionContext& ctx) {
  ActionResult result;
  RunControl run(ctx, "snapshot.restore");
  auto finish = [&](ActionResult& r) -> ActionResult {
    r.duration = run.elapsed();
    return r;
  };
  if (Status loaded = lazy::loadLibarchive(); !loaded.ok()) {  // as in runSnapshotCreate
    fail(result, kErrToolMissing, loaded.message());
    return finish(result);
  }
  struct stat st {};
  if (::stat(params.artifact.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    fail(result, kErrInvalidParams, "artifact " + params.artifact + " is not a readable file");
    return finish(result);
  }
  const fs::path target_path = fs::path(params.target_dir).lexically_normal();
  std::string target = target_path.string();
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  const std::string parent = fs::path(target).parent_path().string();
  if (!isDir(parent.empty() ? "." : parent)) {
    fail(result, kErrInvalidParams, "the parent of target_dir " + target + " is not a directory");
    return finish(result);
  }
  if (::lstat(target.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    fail(result, kErrInvalidParams, "target_dir " + target + " exists and is not a directory");
    return finish(result);
  }
  if (auto pid = livePostmasterPid(target)) {
    fail(result, kErrRefused,
         target + " is the data directory of a running PostgreSQL (live pid " +
             std::to_string(*pid) + "); stop the server before restoring a snapshot into it");
    return finish(result);
  }
  auto lock =
      lockFor(params.lock_dir, params.target.empty() ? lockTarget("dir.", target) : params.target);
  if (!lock.ok()) {
    fail(result, errorCodeFor(lock.status()), lock.status().message());
    return finish(result);
  }

  run.progress("verify", 0, static_cast<uint64_t>(st.st_size), true);
  auto sha = sha256OfFile(params.artifact);
  if (!sha.ok()) {
    fail(result, kErrIo, sha.status().message());
    return finish(result);
  }
  std::string expected = params.expected_sha256;
  for (char& c : expected) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (*sha != expected) {
    fail(result, kErrChecksumMismatch,
         "artifact " + params.artifact + " has sha256 " + *sha + ", expected " + expected +
             ": corrupt or wrong file; " + target + " was not touched");
    return finish(result);
  }

  const std::string stamp = compactUtc(ctx.clock->wallNow());
  const std::string staged = target + ".restoring-" + stamp;
  if (::mkdir(staged.c_str(), 0700) != 0) {
    fail(result, errno == ENOSPC ? kErrNoSpace : kErrIo,
         "mkdir " + staged + ": " + errnoText(errno));
    return finish(result);
  }
  auto discard = [&] {
    std::error_code ignored;
    fs::remove_all(staged, ignored);
  };
  ExtractCounts counts;
  Status s = extractInto(staged, params.artifact, run, static_cast<uint64_t>(st.st_size), counts);
  if (s.ok()) {
    run.progress("fsync", counts.bytes, counts.bytes, true);
    s = fsyncTree(staged);
  }
  if (s.ok()) s = fsyncDir(parent.empty() ? "." : parent);
  if (!s.ok()) {
    discard();
    const char* code = s.code() == StatusCode::kCorruption ? kErrVerifyFailed : errorCodeFor(s);
    if (s.message().find(std::strerror(ENOSPC)) != std::string::npos) code = kErrNoSpace;
    fail(result, code,
         "restore of " + params.artifact + " failed: " + s.message() + "; " + target +
             " was not touched");
    return finish(result);
  }
  auto how = swapIn(staged, target, stamp);
  if (!how.ok()) {
    discard();
    fail(result, kErrIo, how.status().message());
    return finish(result);
  }
  // After a swap `staged` holds the previous tree.
  discard();
  (void)fsyncDir(parent.empty() ? "." : parent);
  run.progress("done", counts.bytes, counts.bytes, true);
  result.ok = true;
  result.bytes = counts.bytes;
  result.sha256 = *sha;
  result.artifact_path = params.artifact;
  result.details = {{"target_dir", target},
                    {"entries", counts.entries},
                    {"swap", *how},
                    {"owners_restored", ::geteuid() == 0}};
  if (!counts.warnings.empty()) result.details["warnings"] = counts.warnings;
  log::info("snapshot restored",
            {{"artifact", params.artifact}, {"target", target}, {"entries", counts.entries}});
  return finish(result);
}

}  // namespace noa::agent::actions
