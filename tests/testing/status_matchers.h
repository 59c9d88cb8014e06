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

// ASSERT_OK_AND_ASSIGN(Type name, expr): fails the test unless expr's Result is OK, then
// moves its value into `name`.
#define NOA_TESTING_CONCAT_INNER_(a, b) a##b
#define NOA_TESTING_CONCAT_(a, b) NOA_TESTING_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr)              \
  auto tmp = (expr);                                           \
  ASSERT_TRUE(tmp.ok()) << ::noa::testing::describe(tmp);      \
  lhs = std::move(tmp).value()
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(NOA_TESTING_CONCAT_(noa_result_, __LINE__), lhs, expr)

namespace noa::testing {
inline std::string describe(const Status& s) { return s.toString(); }
template <class T>
std::string describe(const Result<T>& r) {
  return r.status().toString();
}
}  // namespace noa::testing
