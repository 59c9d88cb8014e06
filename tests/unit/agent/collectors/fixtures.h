#pragma once

// Paths to the fixture files of the collector tests, and a reader for them.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace noa::testing {

inline std::string collectorFixture(const std::string& relative) {
  return std::string(NOA_COLLECTORS_FIXTURES) + "/" + relative;
}

inline std::string readCollectorFixture(const std::string& relative) {
  std::ifstream in(collectorFixture(relative), std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << relative;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace noa::testing
