// Resolving "the postgres primary" (or an agent id) to one agent, and the record codec.

#include "controller/commands/command_target.h"

#include <gtest/gtest.h>

#include "controller/commands/command_record.h"
#include "tests/testing/status_matchers.h"

namespace noa::controller::commands {
namespace {

AgentRecord agent(const std::string& id, const std::string& service, const std::string& role,
                  Liveness liveness = Liveness::kAlive) {
  AgentRecord a;
  a.hello.agent_id = id;
  a.hello.service = service;
  a.hello.capabilities = {"ping", "backup.pg_dump"};
  a.liveness = liveness;
  a.has_report = true;
  a.last_report.role = role;
  return a;
}

const std::vector<AgentRecord> kAgents = {
    agent("pg-1", "postgres", "primary"), agent("pg-2", "postgres", "replica"),
    agent("pg-3", "postgres", "replica"), agent("pg-old", "postgres", "primary", Liveness::kLost),
    agent("redis-1", "redis", "primary")};

TEST(ResolveTarget, ServiceAndRoleFindTheOneLiveAgent) {
  auto t = resolveTarget(kAgents, {"", "postgres", "primary"}, "backup.pg_dump");
  ASSERT_OK(t);
  EXPECT_EQ(t->agent_id, "pg-1") << "the lost former primary does not count";
  EXPECT_EQ(t->service, "postgres");
  EXPECT_EQ(t->role, "primary");
  t = resolveTarget(kAgents, {"", "redis", ""}, "ping");
  ASSERT_OK(t);
  EXPECT_EQ(t->agent_id, "redis-1");
}

TEST(ResolveTarget, AmbiguousOrMissingTargetsAreRefusedWithNames) {
  auto t = resolveTarget(kAgents, {"", "postgres", "replica"}, "ping");
  EXPECT_EQ(t.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(t.status().message().find("pg-2, pg-3"), std::string::npos) << t.status().message();
  t = resolveTarget(kAgents, {"", "llama", "primary"}, "ping");
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  t = resolveTarget(kAgents, {"", "", ""}, "ping");
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
}

TEST(ResolveTarget, AgentIdMustExistBeAliveMatchAndKnowTheAction) {
  ASSERT_OK(resolveTarget(kAgents, {"pg-2", "", ""}, "ping"));
  EXPECT_EQ(resolveTarget(kAgents, {"nope", "", ""}, "ping").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(resolveTarget(kAgents, {"pg-old", "", ""}, "ping").status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(resolveTarget(kAgents, {"pg-2", "postgres", "primary"}, "ping").status().code(),
            StatusCode::kInvalidArgument);
  auto t = resolveTarget(kAgents, {"pg-2", "", ""}, "shell");
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("backup.pg_dump"), std::string::npos);
}

TEST(CommandRecordCodec, RoundTripsAndRefusesGarbage) {
  CommandRecord r;
  r.id = "cmd-1790000000000-000001";
  r.agent_id = "pg-1";
  r.service = "postgres";
  r.role = "primary";
  r.action = "retention.prune";
  r.params = {{"backup_dir", "/b"}, {"artifacts", {"a", "b"}}};
  r.deadline_ms = 1790000060000;
  r.created_ms = 1790000000000;
  r.created_by = "alice";
  r.state = CommandState::kFailed;
  r.history = {{CommandState::kPending, 1, "created"}, {CommandState::kFailed, 2, "failed: x"}};
  r.attempts = 3;
  r.last_sent_ms = 5;
  r.cancel_requested = true;
  r.cancel_sent_ms = 6;
  r.progress = CommandProgress{"dump", 1, 2, 3};
  r.result = CommandOutcome{"failed", 1, "busy", "held", {{"holder", 42}}, 7};
  auto back = decodeCommandRecord(encodeCommandRecord(r));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  EXPECT_EQ(decodeCommandRecord("\xc1garbage").status().code(), StatusCode::kCorruption);
  auto j = commandToJson(r);
  j["state"] = "exploded";
  EXPECT_FALSE(commandFromJson(j).ok());
}

}  // namespace
}  // namespace noa::controller::commands
