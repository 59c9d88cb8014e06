// fence.json: written atomically, read back, removed when the fence is lifted.

#include "agent/runtime/fence_state.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent {
namespace {

TEST(FenceStateFile, MissingFileMeansNoFence) {
  testing::TempDir dir;
  FenceStateFile file(dir.path());
  auto loaded = file.load();
  ASSERT_OK(loaded.status());
  EXPECT_FALSE(loaded->has_value());
}

TEST(FenceStateFile, SavesLoadsAndRemoves) {
  testing::TempDir dir;
  FenceStateFile file(dir.path() + "/sub");  // made on demand
  const FenceRecord record{FenceReason::kController, 42, 1'790'000'000'123};
  ASSERT_OK(file.save(record));
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".tmp"));
  auto loaded = file.load();
  ASSERT_OK(loaded.status());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, record);
  EXPECT_EQ(std::filesystem::status(file.path()).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  ASSERT_OK(file.save(FenceRecord{}));
  EXPECT_FALSE(std::filesystem::exists(file.path()));
  loaded = file.load();
  ASSERT_OK(loaded.status());
  EXPECT_FALSE(loaded->has_value());
  ASSERT_OK(file.save(FenceRecord{}));  // removing twice is fine
}

TEST(FenceStateFile, GarbageIsCorruption) {
  testing::TempDir dir;
  dir.write("fence.json", "{not json");
  EXPECT_EQ(FenceStateFile(dir.path()).load().status().code(), StatusCode::kCorruption);
  dir.write("fence.json", R"({"reason":"sleepy"})");
  EXPECT_EQ(FenceStateFile(dir.path()).load().status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace noa::agent
