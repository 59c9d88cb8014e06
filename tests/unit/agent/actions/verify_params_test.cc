// JSON params of backup.verify as the command channel passes them: the kind follows the file
// name unless given, the digest must be one, unknown keys and wrong types are refused by name.

#include <gtest/gtest.h>

#include "agent/actions/verify_action.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent::actions {
namespace {

using nlohmann::json;

const std::string kSha(64, 'a');

std::string errorOf(const json& j) {
  auto r = VerifyParams::fromJson(j);
  return r.ok() ? std::string("OK") : r.status().message();
}

TEST(VerifyParams, KindFollowsTheFileNameUnlessGiven) {
  auto dump = VerifyParams::fromJson({{"artifact", "/b/app-1.dump"}, {"sha256", kSha}});
  ASSERT_OK(dump);
  EXPECT_EQ(dump->kind, "pg_dump");
  EXPECT_EQ(dump->pg_restore, "pg_restore");
  EXPECT_EQ(dump->timeout_ms, 0);
  EXPECT_TRUE(dump->lock_dir.empty());

  auto snap = VerifyParams::fromJson({{"artifact", "/s/data-1.tar.zst"}, {"sha256", kSha}});
  ASSERT_OK(snap);
  EXPECT_EQ(snap->kind, "snapshot");

  auto given = VerifyParams::fromJson(
      {{"artifact", "/b/renamed.bin"}, {"sha256", kSha}, {"kind", "snapshot"}});
  ASSERT_OK(given);
  EXPECT_EQ(given->kind, "snapshot");

  EXPECT_NE(errorOf({{"artifact", "/b/renamed.bin"}, {"sha256", kSha}}).find("param 'kind'"),
            std::string::npos);
  EXPECT_NE(errorOf({{"artifact", "/b/a.dump"}, {"sha256", kSha}, {"kind", "tar"}})
                .find("must be pg_dump or snapshot"),
            std::string::npos);
}

TEST(VerifyParams, DigestIsSixtyFourHexDigitsKeptLowercase) {
  auto upper =
      VerifyParams::fromJson({{"artifact", "/b/a.dump"}, {"sha256", std::string(64, 'F')}});
  ASSERT_OK(upper);
  EXPECT_EQ(upper->sha256, std::string(64, 'f'));
  EXPECT_NE(errorOf({{"artifact", "/b/a.dump"}, {"sha256", "abc"}}).find("64 hex digits"),
            std::string::npos);
  EXPECT_NE(
      errorOf({{"artifact", "/b/a.dump"}, {"sha256", std::string(64, 'g')}}).find("64 hex digits"),
      std::string::npos);
}

TEST(VerifyParams, RefusesMissingUnknownAndMistypedParams) {
  EXPECT_NE(errorOf({{"sha256", kSha}}).find("'artifact' is required"), std::string::npos);
  EXPECT_NE(errorOf({{"artifact", "/b/a.dump"}}).find("'sha256' is required"), std::string::npos);
  EXPECT_NE(errorOf({{"artifact", ""}, {"sha256", kSha}}).find("'artifact' is empty"),
            std::string::npos);
  EXPECT_NE(errorOf({{"artifact", "/b/a.dump"}, {"sha256", kSha}, {"sha", kSha}})
                .find("unknown param 'sha'"),
            std::string::npos);
  EXPECT_NE(errorOf({{"artifact", "/b/a.dump"}, {"sha256", kSha}, {"timeout_ms", "10s"}})
                .find("'timeout_ms' must be an integer"),
            std::string::npos);
  EXPECT_NE(
      errorOf({{"artifact", "/b/a.dump"}, {"sha256", kSha}, {"timeout_ms", -1}}).find("is outside"),
      std::string::npos);
  EXPECT_NE(errorOf(json::array()).find("must be a JSON object"), std::string::npos);
  // lock_dir and target are accepted (the agent fills lock_dir for every action).
  auto full = VerifyParams::fromJson({{"artifact", "/b/a.dump"},
                                      {"sha256", kSha},
                                      {"timeout_ms", 5000},
                                      {"pg_restore", "/usr/lib/postgresql/15/bin/pg_restore"},
                                      {"lock_dir", "/run/noa/locks"},
                                      {"target", "pg.app"}});
  ASSERT_OK(full);
  EXPECT_EQ(full->timeout_ms, 5000);
  EXPECT_EQ(full->pg_restore, "/usr/lib/postgresql/15/bin/pg_restore");
  EXPECT_EQ(full->target, "pg.app");
}

}  // namespace
}  // namespace noa::agent::actions
