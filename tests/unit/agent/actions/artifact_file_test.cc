#include "agent/actions/artifact_file.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::actions {
namespace {

using noa::testing::TempDir;

constexpr const char* kShaAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kShaEmpty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ArtifactWriterTest, CommitRenamesAndHashes) {
  TempDir dir;
  auto w = ArtifactWriter::create(dir.file("a.dump"));
  ASSERT_OK(w);
  EXPECT_TRUE(dir.exists("a.dump.partial"));
  EXPECT_FALSE(dir.exists("a.dump"));
  EXPECT_EQ(std::filesystem::status(dir.file("a.dump.partial")).permissions() &
                std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ASSERT_OK((*w)->write("ab"));
  ASSERT_OK((*w)->write("c"));
  ASSERT_OK((*w)->commit());
  EXPECT_EQ((*w)->sha256(), kShaAbc);
  EXPECT_EQ((*w)->bytesWritten(), 3u);
  EXPECT_FALSE(dir.exists("a.dump.partial"));
  EXPECT_EQ(readAll(dir.file("a.dump")), "abc");
  w->reset();  // destructor after commit keeps the file
  EXPECT_TRUE(dir.exists("a.dump"));
  auto sha = sha256OfFile(dir.file("a.dump"));
  ASSERT_OK(sha);
  EXPECT_EQ(*sha, kShaAbc);
}

TEST(ArtifactWriterTest, EmptyArtifactHashesEmpty) {
  TempDir dir;
  auto w = ArtifactWriter::create(dir.file("e"));
  ASSERT_OK(w);
  ASSERT_OK((*w)->commit());
  EXPECT_EQ((*w)->sha256(), kShaEmpty);
}

TEST(ArtifactWriterTest, AbortAndDestructorRemoveThePartial) {
  TempDir dir;
  {
    auto w = ArtifactWriter::create(dir.file("x"));
    ASSERT_OK(w);
    ASSERT_OK((*w)->write("data"));
  }
  EXPECT_FALSE(dir.exists("x.partial"));
  EXPECT_FALSE(dir.exists("x"));
  auto w = ArtifactWriter::create(dir.file("x"));
  ASSERT_OK(w);
  (*w)->abort();
  (*w)->abort();  // idempotent
  EXPECT_FALSE(dir.exists("x.partial"));
  EXPECT_FALSE((*w)->write("more").ok());
  EXPECT_FALSE((*w)->commit().ok());
}

TEST(ArtifactWriterTest, NeverReplacesAnExistingArtifactOrPartial) {
  TempDir dir;
  dir.write("old.dump", "precious");
  auto w = ArtifactWriter::create(dir.file("old.dump"));
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(readAll(dir.file("old.dump")), "precious");

  auto first = ArtifactWriter::create(dir.file("new.dump"));
  ASSERT_OK(first);
  auto second = ArtifactWriter::create(dir.file("new.dump"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(second.status().message().find("new.dump.partial"), std::string::npos);
  EXPECT_TRUE(dir.exists("new.dump.partial"));  // the second attempt did not remove the first's
}

TEST(ArtifactWriterTest, MissingDirectoryIsAClearError) {
  TempDir dir;
  auto w = ArtifactWriter::create(dir.file("nope/a.dump"));
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("nope/a.dump.partial"), std::string::npos);
}

TEST(ArtifactFileTest, WriteJsonAtomically) {
  TempDir dir;
  ASSERT_OK(writeJsonAtomically(dir.file("m.json"), {{"a", 1}}));
  EXPECT_EQ(nlohmann::json::parse(readAll(dir.file("m.json"))), (nlohmann::json{{"a", 1}}));
  EXPECT_FALSE(writeJsonAtomically(dir.file("m.json"), {{"a", 2}}).ok());
  EXPECT_EQ(nlohmann::json::parse(readAll(dir.file("m.json")))["a"], 1);
  EXPECT_FALSE(dir.exists("m.json.partial"));
}

TEST(ArtifactFileTest, RemoveStalePartialsOnlyRemovesPartials) {
  TempDir dir;
  dir.write("a.dump.partial", "x");
  dir.write("b.json.partial", "x");
  dir.write("c.dump", "keep");
  dir.write(".partial", "odd name, kept");
  std::filesystem::create_directory(dir.file("d.partial"));  // a directory: not ours
  auto removed = removeStalePartials(dir.path());
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 2);
  EXPECT_FALSE(dir.exists("a.dump.partial"));
  EXPECT_FALSE(dir.exists("b.json.partial"));
  EXPECT_TRUE(dir.exists("c.dump"));
  EXPECT_TRUE(dir.exists(".partial"));
  EXPECT_TRUE(dir.exists("d.partial"));
}

TEST(ArtifactFileTest, FreeBytesAndErrors) {
  TempDir dir;
  auto free_bytes = freeBytes(dir.path());
  ASSERT_OK(free_bytes);
  EXPECT_GT(*free_bytes, 0u);
  EXPECT_FALSE(freeBytes(dir.file("missing")).ok());
  auto sha = sha256OfFile(dir.file("missing"));
  ASSERT_FALSE(sha.ok());
  EXPECT_EQ(sha.status().code(), StatusCode::kNotFound);
}

// A 1 MiB tmpfs: the real kernel ENOSPC path, not a simulation. Needs root (tests run as root);
// skipped elsewhere.
class SmallFilesystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=1m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  TempDir dir_;
  bool mounted_ = false;
};

TEST_F(SmallFilesystemTest, DiskFullRemovesThePartialAndKeepsEarlierFiles) {
  dir_.write("earlier.dump", std::string(100 * 1024, 'e'));
  ASSERT_OK(writeJsonAtomically(dir_.file("earlier.dump.json"), {{"sha256", "x"}}));

  auto w = ArtifactWriter::create(dir_.file("big.dump"));
  ASSERT_OK(w);
  const std::string chunk(64 * 1024, 'b');
  Status st;
  for (int i = 0; i < 64 && st.ok(); ++i) st = (*w)->write(chunk);
  ASSERT_FALSE(st.ok()) << "4 MiB fit into a 1 MiB tmpfs?";
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("big.dump.partial"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(std::strerror(ENOSPC)), std::string::npos) << st.message();
  EXPECT_FALSE(dir_.exists("big.dump.partial"));
  EXPECT_FALSE(dir_.exists("big.dump"));
  EXPECT_FALSE((*w)->commit().ok());
  EXPECT_EQ(readAll(dir_.file("earlier.dump")).size(), 100u * 1024);
  EXPECT_TRUE(dir_.exists("earlier.dump.json"));
  // The space came back: the next artifact fits.
  auto next = ArtifactWriter::create(dir_.file("small.dump"));
  ASSERT_OK(next);
  ASSERT_OK((*next)->write(std::string(1000, 's')));
  ASSERT_OK((*next)->commit());
}

}  // namespace
}  // namespace noa::agent::actions
