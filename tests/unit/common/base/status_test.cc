#include "common/status.h"

#include <gtest/gtest.h>

namespace noa {
namespace {

Result<int> half(int n) {
  if (n % 2 != 0) return Status::InvalidArgument(std::to_string(n) + " is odd");
  return n / 2;
}

Status quarter(int n, int& out) {
  NOA_ASSIGN_OR_RETURN(int h, half(n));
  NOA_ASSIGN_OR_RETURN(out, half(h));
  return Status::Ok();
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = Status::NotFound("agent 'x'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.toString(), "NotFound: agent 'x'");
  EXPECT_EQ(s.withContext("load").message(), "load: agent 'x'");
  EXPECT_TRUE(Status::Ok().withContext("x").ok());
}

TEST(Status, ResultPropagatesThroughMacros) {
  int out = 0;
  EXPECT_TRUE(quarter(8, out).ok());
  EXPECT_EQ(out, 2);
  Status s = quarter(6, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "3 is odd");
}

}  // namespace
}  // namespace noa
