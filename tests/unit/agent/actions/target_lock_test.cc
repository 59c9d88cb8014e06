#include "agent/actions/target_lock.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/testing/status_matchers.h"
#include "tests/unit/agent/actions/temp_dir.h"

namespace noa::agent::actions {
namespace {

using noa::testing::TempDir;

TEST(TargetLockTest, SecondHolderIsBusyAndNamesThePid) {
  TempDir dir;
  auto first = TargetLock::acquire(dir.file("locks"), "pg.app");
  ASSERT_OK(first);
  auto second = TargetLock::acquire(dir.file("locks"), "pg.app");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().message();
  EXPECT_NE(second.status().message().find("pg.app"), std::string::npos);
  // Other targets are independent.
  ASSERT_OK(TargetLock::acquire(dir.file("locks"), "pg.other"));
  first->reset();
  ASSERT_OK(TargetLock::acquire(dir.file("locks"), "pg.app"));
}

TEST(TargetLockTest, RefusesNamesThatAreNotPlain) {
  TempDir dir;
  for (const char* bad : {"", ".", "..", "a/b", "../x", "a b"}) {
    auto lock = TargetLock::acquire(dir.path(), bad);
    ASSERT_FALSE(lock.ok()) << bad;
    EXPECT_EQ(lock.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace noa::agent::actions
