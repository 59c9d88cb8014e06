#include "controller/runtime/controller_config.h"

#include <gtest/gtest.h>

#include <vector>

namespace noa::controller {
namespace {

Status parse(std::vector<const char*> args, ControllerConfig& config) {
  args.insert(args.begin(), "noa-controller");
  return parseControllerConfig(static_cast<int>(args.size()), args.data(), config);
}

TEST(ControllerConfig, DefaultsAreValid) {
  ControllerConfig config;
  // REST auth has no default token source (engineer A's flags); everything else defaults.
  Status parsed = parse({"--api-auth", "none"}, config);
  ASSERT_TRUE(parsed.ok()) << parsed.toString();
  EXPECT_FALSE(config.channel_security.insecure_plaintext);  // CURVE on by default
  EXPECT_FALSE(config.channel_security.auto_accept);
  EXPECT_EQ(config.channel_security.key_dir, config.data_dir + "/keys");
  EXPECT_EQ(config.channel_security.max_pending_keys, 1000u);
  EXPECT_EQ(config.api_port, 7700);
  EXPECT_EQ(config.listen, "tcp://127.0.0.1:7701");
  EXPECT_EQ(config.history_retention, std::chrono::hours(24 * 7));
}

TEST(ControllerConfig, ErrorsNameTheFlag) {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--api-listen", "nohost"}, "--api-listen"},
      {{"--api-listen", "127.0.0.1:99999"}, "port"},
      {{"--listen", "udp://x"}, "--listen"},
      {{"--suspect-after", "5", "--lost-after", "5"}, "--lost-after (5)"},
      {{"--history-retention", "10x"}, "--history-retention"},
      {{"--report-interval", "1ms"}, "--report-interval"},
  };
  for (const auto& c : cases) {
    ControllerConfig config;
    Status s = parse(c.args, config);
    ASSERT_FALSE(s.ok()) << c.expected;
    EXPECT_NE(s.message().find(c.expected), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace noa::controller
