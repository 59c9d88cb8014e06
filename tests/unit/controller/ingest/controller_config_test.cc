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
  ASSERT_TRUE(parse({}, config).ok());
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
