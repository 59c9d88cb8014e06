#pragma once

#include <gtest/gtest.h>

#include "common/status.h"

#define ASSERT_OK(expr)                                        \
  do {                                                         \
    const auto& noa_s_ = (expr);                               \
    ASSERT_TRUE(noa_s_.ok()) << ::noa::testing::describe(noa_s_); \
  } while (0)
#define EXPECT_OK(expr)                                        \
  do {                                                         \
    const auto& noa_s_ = (expr);                               \
    EXPECT_TRUE(noa_s_.ok()) << ::noa::testing::describe(noa_s_); \
  } while (0)

namespace noa::testing {
inline std::string describe(const Status& s) { return s.toString(); }
template <class T>
std::string describe(const Result<T>& r) {
  return r.status().toString();
}
}  // namespace noa::testing
