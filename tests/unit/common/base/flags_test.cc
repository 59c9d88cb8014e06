#include "common/flags.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace noa {
namespace {

po::options_description testFlags() {
  po::options_description desc("test");
  addCommonFlags(desc);
  desc.add_options()("data-dir", po::value<std::string>()->default_value("/d"), "dir")(
      "lost-after", po::value<uint32_t>()->default_value(5), "n");
  return desc;
}

TEST(Flags, EnvNameIsUpperSnakeWithPrefix) {
  EXPECT_EQ(envNameForFlag("data-dir"), "NOA_DATA_DIR");
  EXPECT_EQ(envNameForFlag("log-level"), "NOA_LOG_LEVEL");
}

TEST(Flags, EnvironmentSetsAFlagAndTheCommandLineWins) {
  setenv("NOA_DATA_DIR", "/from-env", 1);
  setenv("NOA_LOST_AFTER", "9", 1);
  {
    const char* argv[] = {"prog"};
    po::variables_map vm;
    CommonFlags common;
    ASSERT_TRUE(parseFlags(1, argv, testFlags(), vm, common).ok());
    EXPECT_EQ(vm["data-dir"].as<std::string>(), "/from-env");
    EXPECT_EQ(vm["lost-after"].as<uint32_t>(), 9u);
  }
  {
    const char* argv[] = {"prog", "--data-dir", "/from-flag"};
    po::variables_map vm;
    CommonFlags common;
    ASSERT_TRUE(parseFlags(3, argv, testFlags(), vm, common).ok());
    EXPECT_EQ(vm["data-dir"].as<std::string>(), "/from-flag");
  }
  unsetenv("NOA_DATA_DIR");
  unsetenv("NOA_LOST_AFTER");
}

TEST(Flags, UnknownFlagAndBadValueAreErrorsNamingTheFlag) {
  {
    const char* argv[] = {"prog", "--no-such-flag"};
    po::variables_map vm;
    CommonFlags common;
    Status s = parseFlags(2, argv, testFlags(), vm, common);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("no-such-flag"), std::string::npos);
  }
  {
    const char* argv[] = {"prog", "--lost-after", "many"};
    po::variables_map vm;
    CommonFlags common;
    Status s = parseFlags(3, argv, testFlags(), vm, common);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("lost-after"), std::string::npos);
  }
  {
    const char* argv[] = {"prog", "--log-level", "loud"};
    po::variables_map vm;
    CommonFlags common;
    Status s = parseFlags(3, argv, testFlags(), vm, common);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.message().find("--log-level"), std::string::npos);
  }
}

TEST(Flags, HelpAndCheckConfigAreRecognised) {
  const char* argv[] = {"prog", "--help", "--check-config", "--log-level", "debug"};
  po::variables_map vm;
  CommonFlags common;
  ASSERT_TRUE(parseFlags(5, argv, testFlags(), vm, common).ok());
  EXPECT_TRUE(common.help);
  EXPECT_TRUE(common.check_config);
  EXPECT_EQ(common.log_level, log::Level::kDebug);
}

}  // namespace
}  // namespace noa
