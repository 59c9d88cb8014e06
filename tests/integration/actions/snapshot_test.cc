// snapshot.create / snapshot.restore on real directory trees: a round trip keeps contents,
// modes, a relative symlink, an empty file and a hardlink; a running PostgreSQL data directory is
// refused (simulated with a postmaster.pid naming this test's own, live, pid); a corrupt archive
// is refused before the target is touched; a full disk (a 2 MiB tmpfs mounted by the test, which
// runs as root) removes the partial and leaves earlier snapshots intact. backup.verify reads a
// stored snapshot to its end: intact passes, truncated fails even with a matching checksum.

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "agent/actions/artifact_file.h"
#include "agent/actions/snapshot_action.h"
#include "agent/actions/target_lock.h"
#include "agent/actions/verify_action.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent::actions {
namespace {

namespace fs = std::filesystem;
using noa::testing::TempDir;

void writeFile(const std::string& path, const std::string& content, mode_t mode) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// rel path -> "type mode size sha|target" plus hardlink groups, for comparing two trees.
struct TreeView {
  std::map<std::string, std::string> entries;
  std::map<std::string, ino_t> inodes;
};

TreeView viewTree(const std::string& root) {
  TreeView view;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root).string();
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::string desc = std::to_string(st.st_mode) + " " + std::to_string(st.st_uid) + ":" +
                       std::to_string(st.st_gid);
    if (S_ISREG(st.st_mode)) {
      desc += " " + std::to_string(st.st_size) + " " + sha256OfFile(it->path()).value() + " " +
              std::to_string(st.st_mtim.tv_sec);
      view.inodes[rel] = st.st_ino;
    } else if (S_ISLNK(st.st_mode)) {
      desc += " -> " + fs::read_symlink(it->path()).string();
    }
    view.entries[rel] = desc;
  }
  return view;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.path() + "/data";
    snaps_ = dir_.path() + "/snaps";
    fs::create_directories(snaps_);
    writeFile(src_ + "/a/b/c.txt", "hello snapshot\n", 0640);
    writeFile(src_ + "/bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
    writeFile(src_ + "/empty", "", 0600);
    ASSERT_EQ(::chmod((src_ + "/a").c_str(), 0750), 0);
    fs::create_directory_symlink("../a", src_ + "/bin/a-link");
    fs::create_symlink("a/b/c.txt", src_ + "/link");
    fs::create_hard_link(src_ + "/a/b/c.txt", src_ + "/hard");
    ASSERT_EQ(::chmod(src_.c_str(), 0710), 0);
  }

  SnapshotCreateParams createParams() {
    SnapshotCreateParams p;
    p.source_dir = src_;
    p.snapshot_dir = snaps_;
    p.lock_dir = dir_.path() + "/locks";
    return p;
  }
  SnapshotRestoreParams restoreParams(const ActionResult& created, const std::string& target) {
    SnapshotRestoreParams p;
    p.artifact = created.artifact_path;
    p.expected_sha256 = created.sha256;
    p.target_dir = target;
    p.lock_dir = dir_.path() + "/locks";
    return p;
  }

  TempDir dir_;
  std::string src_;
  std::string snaps_;
};

TEST_F(SnapshotTest, RoundTripKeepsContentModesSymlinksEmptyFilesAndHardlinks) {
  std::vector<std::string> phases;
  ActionContext ctx;
  ctx.on_progress = [&](const Progress& p) { phases.push_back(p.phase); };
  ActionResult created = runSnapshotCreate(createParams(), ctx);
  ASSERT_TRUE(created.ok) << created.error;
  EXPECT_EQ(created.sha256, sha256OfFile(created.artifact_path).value());
  EXPECT_EQ(created.bytes, fs::file_size(created.artifact_path));
  EXPECT_NE(created.artifact_path.find("/data-"), std::string::npos);
  EXPECT_TRUE(created.artifact_path.ends_with(".tar.zst"));
  EXPECT_FALSE(fs::exists(created.artifact_path + ".partial"));
  std::ifstream manifest_file(created.artifact_path + ".json");
  nlohmann::json manifest = nlohmann::json::parse(manifest_file);
  EXPECT_EQ(manifest["sha256"], created.sha256);
  EXPECT_EQ(manifest["size"], created.bytes);
  EXPECT_EQ(manifest["file_count"], 4);  // c.txt, hard (a hardlink), run.sh, empty
  EXPECT_EQ(manifest["source_dir"], fs::canonical(src_).string());
  EXPECT_EQ(phases.back(), "done");

  const std::string target = dir_.path() + "/restored";
  ActionResult restored = runSnapshotRestore(restoreParams(created, target), ActionContext{});
  ASSERT_TRUE(restored.ok) << restored.error;
  EXPECT_EQ(restored.details["swap"], "new");
  TreeView before = viewTree(src_);
  TreeView after = viewTree(target);
  EXPECT_EQ(before.entries, after.entries);
  EXPECT_EQ(after.inodes["hard"], after.inodes["a/b/c.txt"]);
  struct stat root {};
  ASSERT_EQ(::stat(target.c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 07777, 0710u);

  // Restoring over an existing tree swaps it out completely and leaves no sibling behind.
  writeFile(target + "/stray", "not in the snapshot", 0644);
  restored = runSnapshotRestore(restoreParams(created, target), ActionContext{});
  ASSERT_TRUE(restored.ok) << restored.error;
  EXPECT_EQ(restored.details["swap"], "exchange");
  EXPECT_EQ(viewTree(target).entries, before.entries);
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find("restored."), std::string::npos) << e.path();
  }
}

TEST_F(SnapshotTest, RefusesARunningPostgresDataDirectory) {
  // A real postmaster is not needed: the check is "postmaster.pid names a live process", and
  // this test's own pid is live.
  writeFile(src_ + "/postmaster.pid", std::to_string(::getpid()) + "\n/data\n", 0600);
  ActionResult created = runSnapshotCreate(createParams(), ActionContext{});
  EXPECT_FALSE(created.ok);
  EXPECT_EQ(created.error_code, kErrRefused);
  EXPECT_NE(created.error.find("backup.pg_dump"), std::string::npos) << created.error;
  EXPECT_TRUE(fs::is_empty(snaps_));

  // A stale pid file (process gone) does not block.
  writeFile(src_ + "/postmaster.pid", "999999999\n", 0600);
  created = runSnapshotCreate(createParams(), ActionContext{});
  ASSERT_TRUE(created.ok) << created.error;

  writeFile(src_ + "/postmaster.pid", std::to_string(::getpid()) + "\n", 0600);
  ActionResult restored = runSnapshotRestore(restoreParams(created, src_), ActionContext{});
  EXPECT_EQ(restored.error_code, kErrRefused);
}

TEST_F(SnapshotTest, CorruptArchiveIsRefusedAndTheTargetIsUntouched) {
  ActionResult created = runSnapshotCreate(createParams(), ActionContext{});
  ASSERT_TRUE(created.ok) << created.error;
  const std::string target = dir_.path() + "/live";
  ASSERT_TRUE(runSnapshotRestore(restoreParams(created, target), ActionContext{}).ok);
  writeFile(target + "/newer", "written after the snapshot", 0644);
  TreeView live = viewTree(target);

  std::string bytes;
  {
    std::ifstream in(created.artifact_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes[bytes.size() / 2] ^= 0x5a;
  const std::string corrupt = dir_.path() + "/corrupt.tar.zst";
  std::ofstream(corrupt, std::ios::binary) << bytes;

  SnapshotRestoreParams p = restoreParams(created, target);
  p.artifact = corrupt;
  ActionResult r = runSnapshotRestore(p, ActionContext{});
  EXPECT_EQ(r.error_code, kErrChecksumMismatch) << r.error;
  EXPECT_EQ(viewTree(target).entries, live.entries);

  // Even with a matching checksum (a truncated artifact catalogued as is), the damage is caught
  // while extracting into the sibling directory, and the target still stays as it was. (A flipped
  // byte inside file data is only caught by the checksum: zstd frames from libarchive 3.6 carry
  // no content checksum.)
  std::ofstream(corrupt, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  p.expected_sha256 = sha256OfFile(corrupt).value();
  r = runSnapshotRestore(p, ActionContext{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, kErrVerifyFailed) << r.error;
  EXPECT_EQ(viewTree(target).entries, live.entries);
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find("live.restoring"), std::string::npos);
  }
}

TEST_F(SnapshotTest, VerifyReadsTheWholeArchive) {
  ActionResult created = runSnapshotCreate(createParams(), ActionContext{});
  ASSERT_TRUE(created.ok) << created.error;
  auto params = VerifyParams::fromJson({{"artifact", created.artifact_path},
                                        {"sha256", created.sha256},
                                        {"lock_dir", dir_.path() + "/locks"}});
  ASSERT_OK(params);
  EXPECT_EQ(params->kind, "snapshot");
  std::vector<std::string> phases;
  ActionContext ctx;
  ctx.on_progress = [&](const Progress& p) {
    if (phases.empty() || phases.back() != p.phase) phases.push_back(p.phase);
  };
  ActionResult verified = runVerify(*params, ctx);
  ASSERT_TRUE(verified.ok) << verified.error_code << ": " << verified.error;
  EXPECT_EQ(phases, (std::vector<std::string>{"hash", "list", "done"}));
  EXPECT_EQ(verified.sha256, created.sha256);
  EXPECT_EQ(verified.bytes, created.bytes);
  EXPECT_EQ(verified.details["kind"], "snapshot");
  EXPECT_EQ(verified.details["size"], created.bytes);
  EXPECT_EQ(verified.details["archive_entries"], created.details["entry_count"]);
  EXPECT_FALSE(verified.details.contains("toc_entries"));
}

TEST_F(SnapshotTest, VerifyOfATruncatedArchiveWithItsOwnChecksumFails) {
  ActionResult created = runSnapshotCreate(createParams(), ActionContext{});
  ASSERT_TRUE(created.ok) << created.error;
  std::string bytes;
  {
    std::ifstream in(created.artifact_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string truncated = dir_.path() + "/truncated.tar.zst";
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  VerifyParams p;
  p.artifact = truncated;
  p.sha256 = sha256OfFile(truncated).value();
  p.kind = "snapshot";
  ActionResult r = runVerify(p, ActionContext{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, kErrVerifyFailed) << r.error;
  EXPECT_NE(r.error.find(truncated), std::string::npos) << r.error;

  // Against the digest catalogued for the whole archive, the truncated file is a mismatch.
  p.sha256 = created.sha256;
  r = runVerify(p, ActionContext{});
  EXPECT_EQ(r.error_code, kErrChecksumMismatch) << r.error;
}

// Unmounts on every exit path of the test.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const std::string& size) : path_(path) {
    fs::create_directories(path);
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

TEST_F(SnapshotTest, DiskFullRemovesThePartialAndKeepsEarlierSnapshots) {
  TmpfsMount small(snaps_, "2m");
  if (!small.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  ActionResult first = runSnapshotCreate(createParams(), ActionContext{});
  ASSERT_TRUE(first.ok) << first.error;

  std::mt19937 rng(7);
  std::string noise(4 << 20, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  writeFile(src_ + "/big.bin", noise, 0644);  // incompressible: 4 MiB cannot fit in 2 MiB
  SnapshotCreateParams p = createParams();
  p.name = "second.tar.zst";
  ActionResult second = runSnapshotCreate(p, ActionContext{});
  EXPECT_FALSE(second.ok);
  EXPECT_EQ(second.error_code, kErrNoSpace) << second.error;
  EXPECT_NE(second.error.find("earlier snapshots untouched"), std::string::npos);

  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(snaps_)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  const std::string first_name = fs::path(first.artifact_path).filename();
  EXPECT_EQ(names, (std::vector<std::string>{first_name, first_name + ".json"}));
  EXPECT_EQ(sha256OfFile(first.artifact_path).value(), first.sha256);
}

TEST_F(SnapshotTest, BusyWhileAnotherActionHoldsTheTarget) {
  auto held = TargetLock::acquire(dir_.path() + "/locks", "data-volume");
  ASSERT_OK(held);
  SnapshotCreateParams p = createParams();
  p.target = "data-volume";
  ActionResult r = runSnapshotCreate(p, ActionContext{});
  EXPECT_EQ(r.error_code, kErrBusy) << r.error;
  EXPECT_TRUE(fs::is_empty(snaps_));
}

TEST_F(SnapshotTest, CancelledCreateLeavesNothing) {
  StopToken cancel;
  cancel.requestStop();
  ActionContext ctx;
  ctx.cancel = &cancel;
  ActionResult r = runSnapshotCreate(createParams(), ctx);
  EXPECT_EQ(r.error_code, kErrCancelled) << r.error;
  EXPECT_TRUE(fs::is_empty(snaps_));
}

}  // namespace
}  // namespace noa::agent::actions
