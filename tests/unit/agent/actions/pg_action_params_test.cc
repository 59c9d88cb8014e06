#include <gtest/gtest.h>

#include "agent/actions/pg_dump_action.h"
#include "agent/actions/pg_restore_action.h"
#include "agent/actions/retention_action.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent::actions {
namespace {

using nlohmann::json;

void expectInvalid(const Status& st, const std::string& needle) {
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.toString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.message();
}

TEST(PgDumpParamsTest, DefaultsAndConninfo) {
  auto p = PgDumpParams::fromJson(
      {{"conninfo", "host=127.0.0.1 port=5432 dbname=app"}, {"backup_dir", "/b"}});
  ASSERT_OK(p);
  EXPECT_EQ(p->compression, "none");
  EXPECT_EQ(p->zLevel(), 0);
  EXPECT_TRUE(p->verify);
  EXPECT_EQ(p->lock_dir, kDefaultLockDir);
  auto kw = p->source.keywords();
  ASSERT_OK(kw);
  EXPECT_EQ((*kw)["dbname"], "app");
}

TEST(PgDumpParamsTest, FieldsOverrideConninfoAndPasswordStaysOffTheCommandLine) {
  auto p = PgDumpParams::fromJson({{"conninfo", "host=h password=s3cret dbname=x"},
                                   {"dbname", "y"},
                                   {"port", 6543},
                                   {"backup_dir", "/b"},
                                   {"compression", "gzip:3"}});
  ASSERT_OK(p);
  EXPECT_EQ(p->zLevel(), 3);
  auto conn = toolConn(p->source);
  ASSERT_OK(conn);
  EXPECT_EQ(conn->password, "s3cret");
  EXPECT_EQ(conn->dbname, "y");
  EXPECT_EQ(conn->conninfo.find("s3cret"), std::string::npos) << conn->conninfo;
  EXPECT_NE(conn->conninfo.find("port='6543'"), std::string::npos) << conn->conninfo;
}

TEST(PgDumpParamsTest, RejectsBadInput) {
  expectInvalid(PgDumpParams::fromJson(json::array()).status(), "must be a JSON object");
  expectInvalid(PgDumpParams::fromJson({{"dbname", "a"}}).status(), "'backup_dir' is required");
  expectInvalid(
      PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"backupdir", "/b"}}).status(),
      "unknown param 'backupdir'");
  expectInvalid(PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", 5}}).status(),
                "'backup_dir' must be a string, got number");
  expectInvalid(
      PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"port", "5432"}}).status(),
      "'port' must be an integer");
  expectInvalid(
      PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"port", 70000}}).status(),
      "outside 1..65535");
  expectInvalid(PgDumpParams::fromJson({{"backup_dir", "/b"}, {"host", "h"}}).status(),
                "database to dump is missing");
  expectInvalid(PgDumpParams::fromJson({{"conninfo", "nonsense"}, {"backup_dir", "/b"}}).status(),
                "not a valid libpq conninfo");
  expectInvalid(
      PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"compression", "zstd"}})
          .status(),
      "compression");
  expectInvalid(
      PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"compression", "gzip:0"}})
          .status(),
      "compression");
  for (const char* bad : {"../x.dump", "a/b", "x.dump.partial", "x.json", ".."}) {
    expectInvalid(
        PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"name", bad}}).status(),
        "plain file name");
  }
  expectInvalid(
      PgDumpParams::fromJson({{"dbname", "a"}, {"backup_dir", "/b"}, {"verify", "yes"}}).status(),
      "'verify' must be a boolean");
}

TEST(PgRestoreParamsTest, DefaultsAndValidation) {
  auto p = PgRestoreParams::fromJson({{"artifact", "/b/a.dump"}, {"target_db", "app"}});
  ASSERT_OK(p);
  EXPECT_FALSE(p->swap);
  EXPECT_EQ(p->jobs, 0);
  expectInvalid(PgRestoreParams::fromJson({{"artifact", "/b/a.dump"}}).status(),
                "'target_db' is required");
  expectInvalid(
      PgRestoreParams::fromJson({{"artifact", "/a"}, {"target_db", "t"}, {"sha256", "ABC"}})
          .status(),
      "64 lowercase hex");
  expectInvalid(
      PgRestoreParams::fromJson({{"artifact", "/a"}, {"target_db", std::string(36, 'x')}}).status(),
      "at most 35 bytes");
  expectInvalid(
      PgRestoreParams::fromJson({{"artifact", "/a"}, {"target_db", "t"}, {"jobs", -1}}).status(),
      "'jobs'");
  expectInvalid(
      PgRestoreParams::fromJson({{"artifact", "/a"}, {"target_db", "t"}, {"swap", 1}}).status(),
      "'swap' must be a boolean");
  expectInvalid(
      PgRestoreParams::fromJson({{"artifact", "/a"}, {"target_db", "t"}, {"drop", true}}).status(),
      "unknown param 'drop'");
}

TEST(PruneParamsTest, Validation) {
  auto p =
      PruneParams::fromJson({{"backup_dir", "/b"}, {"artifacts", {"a", "b"}}, {"pinned", {"a"}}});
  ASSERT_OK(p);
  EXPECT_EQ(p->artifacts.size(), 2u);
  EXPECT_TRUE(p->in_use.empty());
  expectInvalid(PruneParams::fromJson({{"backup_dir", "/b"}, {"artifacts", "a"}}).status(),
                "'artifacts' must be an array of strings");
  expectInvalid(PruneParams::fromJson({{"backup_dir", "/b"}, {"artifacts", {"a", 1}}}).status(),
                "'artifacts' must be an array of strings");
  expectInvalid(PruneParams::fromJson({{"artifacts", json::array()}}).status(),
                "'backup_dir' is required");
}

}  // namespace
}  // namespace noa::agent::actions
