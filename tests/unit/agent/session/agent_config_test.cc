#include "agent/runtime/agent_config.h"

#include <gtest/gtest.h>

#include <vector>

namespace noa::agent {
namespace {

// A valid Z85 public key (any 32 bytes are one).
constexpr const char* kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

Status parse(std::vector<const char*> args, AgentConfig& config) {
  args.insert(args.begin(), "noa-agent");
  return parseAgentConfig(static_cast<int>(args.size()), args.data(), config);
}

TEST(AgentConfig, MinimalValidConfig) {
  AgentConfig config;
  ASSERT_TRUE(parse({"--agent-id", "redis-1", "--service", "redis", "--kind", "redis",
                     "--service-port", "6379", "--controller-public-key", kKey},
                    config)
                  .ok());
  EXPECT_EQ(config.agent_id, "redis-1");
  EXPECT_EQ(config.state_dir, "/var/lib/noa-agent/redis-1");
  EXPECT_FALSE(config.insecure_plaintext);
  EXPECT_EQ(config.report_interval, std::chrono::milliseconds(1000));
}

TEST(AgentConfig, ErrorsNameTheFlag) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--service", "s"}, "--agent-id is required"},
      {{"--agent-id", "a b", "--service", "s"}, "--agent-id 'a b'"},
      {{"--agent-id", "a", "--service", "s", "--kind", "mongo"}, "--kind 'mongo'"},
      {{"--agent-id", "a", "--service", "s", "--kind", "redis"}, "--service-port is required"},
      {{"--agent-id", "a", "--service", "s", "--report-interval", "5ms"}, "--report-interval"},
      {{"--agent-id", "a", "--service", "s", "--controller", "http://x"}, "--controller"},
  };
  for (const auto& c : cases) {
    AgentConfig config;
    Status s = parse(c.args, config);
    ASSERT_FALSE(s.ok()) << c.expected;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.message();
  }
}

TEST(AgentConfig, PasswordsAreRedactedInTheEffectiveConfig) {
  AgentConfig config;
  ASSERT_TRUE(
      parse({"--agent-id", "pg-1", "--service", "postgres", "--kind", "postgres", "--pg-conninfo",
             "host=127.0.0.1 port=5432 password=s3cret user=app", "--insecure-plaintext"},
            config)
          .ok());
  const std::string shown = toJson(config).dump();
  EXPECT_EQ(shown.find("s3cret"), std::string::npos) << shown;
  EXPECT_NE(shown.find("password=***"), std::string::npos) << shown;
}

TEST(AgentConfig, TheControllerPublicKeyIsRequiredUnlessPlaintext) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{}, "the controller's public key is required"},
      {{"--controller-public-key", "short"}, "--controller-public-key"},
      {{"--controller-public-key-file", "/nonexistent/controller.pub"},
       "--controller-public-key-file"},
      {{"--controller-public-key", kKey, "--controller-public-key-file", "/x"}, "exclude"},
      {{"--insecure-plaintext", "--controller-public-key", kKey}, "--insecure-plaintext"},
  };
  for (const auto& c : cases) {
    std::vector<const char*> args = {"--agent-id", "a", "--service", "s"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    AgentConfig config;
    Status s = parse(args, config);
    ASSERT_FALSE(s.ok()) << c.expected;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.message();
  }
  AgentConfig plaintext;
  ASSERT_TRUE(parse({"--agent-id", "a", "--service", "s", "--insecure-plaintext"}, plaintext).ok());
  EXPECT_TRUE(plaintext.insecure_plaintext);
}

}  // namespace
}  // namespace noa::agent
