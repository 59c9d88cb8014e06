// JSON params of snapshot.create / snapshot.restore / model.load as the command channel will
// pass them: defaults applied, unknown keys and wrong types refused with the key named.

#include <gtest/gtest.h>

#include "agent/actions/model_load_action.h"
#include "agent/actions/snapshot_action.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent::actions {
namespace {

using nlohmann::json;

const std::string kSha(64, 'a');

template <class P>
std::string errorOf(const json& j) {
  auto r = P::fromJson(j);
  return r.ok() ? std::string("OK") : r.status().message();
}

TEST(SnapshotParams, DefaultsAndRefusals) {
  auto p = SnapshotCreateParams::fromJson({{"source_dir", "/d"}, {"snapshot_dir", "/s"}});
  ASSERT_OK(p);
  EXPECT_EQ(p->zstd_level, 1);
  EXPECT_EQ(p->threads, 2);
  EXPECT_TRUE(p->name.empty());
  EXPECT_NE(errorOf<SnapshotCreateParams>({{"source_dir", "/d"}, {"snapshotdir", "/s"}})
                .find("unknown param 'snapshotdir'"),
            std::string::npos);
  EXPECT_NE(errorOf<SnapshotCreateParams>(
                {{"source_dir", "/d"}, {"snapshot_dir", "/s"}, {"zstd_level", "fast"}})
                .find("'zstd_level' must be an integer"),
            std::string::npos);
  EXPECT_NE(errorOf<SnapshotCreateParams>(
                {{"source_dir", "/d"}, {"snapshot_dir", "/s"}, {"name", "../x.tar.zst"}})
                .find("plain file name"),
            std::string::npos);
  EXPECT_NE(errorOf<SnapshotRestoreParams>(
                {{"artifact", "/a"}, {"expected_sha256", "abc"}, {"target_dir", "/t"}})
                .find("64 hex digits"),
            std::string::npos);
  EXPECT_OK(SnapshotRestoreParams::fromJson(
      {{"artifact", "/a"}, {"expected_sha256", kSha}, {"target_dir", "/t"}}));
}

TEST(ModelLoadParams, ReloadModesAndDefaults) {
  json base = {{"source", "https://store.local/m/llama-3b.Q4_K.gguf?sig=1"},
               {"expected_sha256", std::string(64, 'A')},
               {"models_dir", "/models"},
               {"reload", {{"router_url", "http://127.0.0.1:8080"}}}};
  auto p = ModelLoadParams::fromJson(base);
  ASSERT_OK(p);
  EXPECT_EQ(p->name, "llama-3b.Q4_K.gguf");
  EXPECT_EQ(p->active_link, "/models/active.gguf");
  EXPECT_EQ(p->health_url, "http://127.0.0.1:8080");
  EXPECT_EQ(p->expected_sha256, std::string(64, 'a'));

  json restart = base;
  restart["reload"] = {{"restart_command", {"systemctl", "restart", "llama"}}};
  EXPECT_NE(errorOf<ModelLoadParams>(restart).find("'health_url' is required"), std::string::npos);
  restart["health_url"] = "http://127.0.0.1:8081";
  ASSERT_OK(ModelLoadParams::fromJson(restart));

  json both = base;
  both["reload"]["restart_command"] = {"x"};
  EXPECT_NE(errorOf<ModelLoadParams>(both).find("exactly one"), std::string::npos);
  json none = base;
  none.erase("reload");
  EXPECT_NE(errorOf<ModelLoadParams>(none).find("'reload' is required"), std::string::npos);
  json typo = base;
  typo["reload"] = {{"routerurl", "http://x"}};
  EXPECT_NE(errorOf<ModelLoadParams>(typo).find("unknown param 'routerurl'"), std::string::npos);
  json no_sha = base;
  no_sha.erase("expected_sha256");
  EXPECT_NE(errorOf<ModelLoadParams>(no_sha).find("'expected_sha256' is required"),
            std::string::npos);
  json bad_timeout = base;
  bad_timeout["load_timeout_ms"] = "5m";
  EXPECT_NE(errorOf<ModelLoadParams>(bad_timeout).find("must be an integer"), std::string::npos);
}

}  // namespace
}  // namespace noa::agent::actions
