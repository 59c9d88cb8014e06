// The agent's own defaults for command params: filled in only where the command is silent,
// never over what it says; the kind decides which actions exist at all.

#include "agent/commands/action_defaults.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace noa::agent::commands {
namespace {

using nlohmann::json;

AgentActionDefaults sample() {
  AgentActionDefaults d;
  d.pg_conninfo = "host=127.0.0.1 port=5432 user=postgres";
  d.backup_dir = "/var/lib/noa-backups";
  d.snapshot_dir = "/var/lib/noa-snapshots";
  d.models_dir = "/models";
  d.lock_dir = "/run/noa-agent/locks";
  return d;
}

TEST(ActionDefaults, FillsWhatTheCommandLeavesOut) {
  json p = withDefaults("backup.pg_dump", {{"dbname", "app"}}, sample());
  EXPECT_EQ(p["conninfo"], "host=127.0.0.1 port=5432 user=postgres");
  EXPECT_EQ(p["backup_dir"], "/var/lib/noa-backups");
  EXPECT_EQ(p["lock_dir"], "/run/noa-agent/locks");
  EXPECT_EQ(p["dbname"], "app");
  EXPECT_EQ(withDefaults("snapshot.create", json::object(), sample())["snapshot_dir"],
            "/var/lib/noa-snapshots");
  EXPECT_EQ(withDefaults("model.load", json::object(), sample())["models_dir"], "/models");
  EXPECT_EQ(withDefaults("ping", json::object(), sample()), json::object());
}

TEST(ActionDefaults, NeverOverridesTheCommand) {
  json p = withDefaults("backup.pg_dump",
                        {{"host", "10.0.0.5"}, {"backup_dir", "/elsewhere"}, {"lock_dir", "/l"}},
                        sample());
  EXPECT_FALSE(p.contains("conninfo")) << "the command named its own server";
  EXPECT_EQ(p["backup_dir"], "/elsewhere");
  EXPECT_EQ(p["lock_dir"], "/l");
}

TEST(ActionDefaults, HostAndPortWhenThereIsNoConninfo) {
  AgentActionDefaults d = sample();
  d.pg_conninfo.clear();
  d.pg_host = "127.0.0.1";
  d.pg_port = 6543;
  json p = withDefaults("restore.pg_restore", {{"artifact", "/a"}}, d);
  EXPECT_EQ(p["host"], "127.0.0.1");
  EXPECT_EQ(p["port"], 6543);
}

TEST(ActionDefaults, KindChoosesTheActions) {
  auto has = [](const std::vector<std::string>& v, const char* name) {
    return std::find(v.begin(), v.end(), name) != v.end();
  };
  EXPECT_TRUE(has(defaultActionsFor("postgres"), "backup.pg_dump"));
  EXPECT_FALSE(has(defaultActionsFor("redis"), "backup.pg_dump"));
  EXPECT_TRUE(has(defaultActionsFor("llama"), "model.load"));
  for (const char* kind : {"postgres", "redis", "llama", "http", "generic"}) {
    EXPECT_TRUE(has(defaultActionsFor(kind), "ping")) << kind;
  }
}

TEST(ActionDefaults, RegistryHasOnlyTheChosenActionsAndAppliesDefaults) {
  auto reg = agentActions(builtinActions(), {"ping", "retention.prune"}, sample());
  ASSERT_TRUE(reg.ok()) << reg.status().toString();
  EXPECT_EQ(reg->names(), (std::vector<std::string>{"ping", "retention.prune"}));
  EXPECT_FALSE(reg->has("backup.pg_dump"));
  // backup_dir comes from the defaults, so the strict parser accepts a prune naming only files.
  EXPECT_TRUE(reg->prepare("retention.prune", {{"artifacts", json::array({"a.dump"})}}).ok());
  auto unknown = agentActions(builtinActions(), {"shell"}, sample());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("shell"), std::string::npos);
}

}  // namespace
}  // namespace noa::agent::commands
