#include "agent/actions/retention_action.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::actions {
namespace {

using noa::testing::TempDir;

std::string reasonFor(const nlohmann::json& details, const std::string& name) {
  for (const auto& k : details["kept"]) {
    if (k["name"] == name) return k["reason"];
  }
  return "";
}

class PruneTest : public ::testing::Test {
 protected:
  ActionResult prune(std::vector<std::string> artifacts, std::vector<std::string> pinned = {},
                     std::vector<std::string> in_use = {}, bool dry_run = false) {
    PruneParams p;
    p.backup_dir = dir_.path();
    p.artifacts = std::move(artifacts);
    p.pinned = std::move(pinned);
    p.in_use = std::move(in_use);
    p.dry_run = dry_run;
    ActionContext ctx;
    ctx.clock = &clock_;
    return runPrune(p, ctx);
  }
  void makeBackup(const std::string& name) {
    dir_.write(name, "dump " + name);
    dir_.write(name + ".json", "{}");
  }

  TempDir dir_;
  noa::testing::FakeClock clock_;
};

TEST_F(PruneTest, DeletesArtifactAndManifest) {
  makeBackup("a.dump");
  makeBackup("b.dump");
  auto r = prune({"a.dump", dir_.file("b.dump")});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_FALSE(dir_.exists("a.dump"));
  EXPECT_FALSE(dir_.exists("a.dump.json"));
  EXPECT_FALSE(dir_.exists("b.dump"));
  EXPECT_FALSE(dir_.exists("b.dump.json"));
  ASSERT_EQ(r.details["deleted"].size(), 2u);
  EXPECT_EQ(r.details["deleted"][0]["files"].size(), 2u);
  EXPECT_EQ(r.bytes, std::string("dump a.dump").size() + std::string("dump b.dump").size());
  EXPECT_TRUE(r.details["kept"].empty());
}

TEST_F(PruneTest, RefusesPinnedInUseAndOutsidePaths) {
  makeBackup("pinned.dump");
  makeBackup("restoring.dump");
  makeBackup("old.dump");
  TempDir outside;
  outside.write("victim", "x");
  std::filesystem::create_directory(dir_.file("sub"));
  dir_.write("sub/nested.dump", "x");
  auto r = prune({"pinned.dump", "restoring.dump",
                  "../" + std::filesystem::path(outside.path()).filename().string() + "/victim",
                  outside.file("victim"), dir_.path() + "/../x", "sub/nested.dump", "sub",
                  "missing.dump", "old.dump.json", "old.dump"},
                 {"pinned.dump"}, {dir_.file("restoring.dump")});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(dir_.exists("pinned.dump"));
  EXPECT_TRUE(dir_.exists("restoring.dump"));
  EXPECT_TRUE(outside.exists("victim"));
  EXPECT_TRUE(dir_.exists("sub/nested.dump"));
  EXPECT_FALSE(dir_.exists("old.dump"));
  EXPECT_EQ(reasonFor(r.details, "pinned.dump"), kKeptPinned);
  EXPECT_EQ(reasonFor(r.details, "restoring.dump"), kKeptInUse);
  EXPECT_EQ(reasonFor(r.details, outside.file("victim")), kKeptOutsideDir);
  EXPECT_EQ(reasonFor(r.details, dir_.path() + "/../x"), kKeptOutsideDir);
  EXPECT_EQ(reasonFor(r.details, "sub/nested.dump"), kKeptOutsideDir);
  EXPECT_EQ(reasonFor(r.details, "sub"), kKeptNotAFile);
  EXPECT_EQ(reasonFor(r.details, "missing.dump"), kKeptNotFound);
  EXPECT_EQ(reasonFor(r.details, "old.dump.json"), kKeptOutsideDir);
  ASSERT_EQ(r.details["deleted"].size(), 1u);
  EXPECT_EQ(r.details["deleted"][0]["name"], "old.dump");
}

TEST_F(PruneTest, DryRunDeletesNothing) {
  makeBackup("a.dump");
  auto r = prune({"a.dump"}, {}, {}, /*dry_run=*/true);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(dir_.exists("a.dump"));
  EXPECT_TRUE(dir_.exists("a.dump.json"));
  ASSERT_EQ(r.details["deleted"].size(), 1u);
  EXPECT_TRUE(r.details["dry_run"]);
}

TEST_F(PruneTest, ArtifactWithoutManifestIsStillDeleted) {
  dir_.write("lonely.dump", "x");
  auto r = prune({"lonely.dump"});
  ASSERT_TRUE(r.ok);
  EXPECT_FALSE(dir_.exists("lonely.dump"));
}

TEST(ArtifactNameInDirTest, Lexical) {
  EXPECT_EQ(artifactNameInDir("/b", "a.dump"), "a.dump");
  EXPECT_EQ(artifactNameInDir("/b", "/b/a.dump"), "a.dump");
  EXPECT_EQ(artifactNameInDir("/b/", "/b/a.dump"), "a.dump");
  EXPECT_EQ(artifactNameInDir("/b", "/b//a.dump"), "a.dump");
  EXPECT_EQ(artifactNameInDir("/b", "/b/../b/a.dump"), "");
  EXPECT_EQ(artifactNameInDir("/b", "/c/a.dump"), "");
  EXPECT_EQ(artifactNameInDir("/b", "/b/sub/a.dump"), "");
  EXPECT_EQ(artifactNameInDir("/b", "./a.dump"), "");
  EXPECT_EQ(artifactNameInDir("/b", ".."), "");
  EXPECT_EQ(artifactNameInDir("/b", "/b"), "");
  EXPECT_EQ(artifactNameInDir("/b", "/b/"), "");
}

}  // namespace
}  // namespace noa::agent::actions
