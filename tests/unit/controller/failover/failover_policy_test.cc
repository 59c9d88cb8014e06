#include "controller/failover/failover_policy.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace noa::controller::failover {
namespace {

TEST(FailoverPolicy, DefaultsApplyToServicesTheFileDoesNotName) {
  auto p = parseFailoverPolicies("services:\n  web:\n    backups: []\n");
  ASSERT_OK(p);
  const FailoverPolicy& d = p->of("postgres");
  EXPECT_EQ(d.lease_ms, 2000);
  EXPECT_EQ(d.margin_ms, 300);
  EXPECT_EQ(d.maximum_lag_bytes, 1048576);
  EXPECT_TRUE(d.automatic);
  EXPECT_FALSE(d.synchronous);
  EXPECT_EQ(d.priorityOf("anyone"), 1);
}

TEST(FailoverPolicy, ReadsEveryKey) {
  auto p = parseFailoverPolicies(R"(
services:
  postgres:
    backups: []
    failover:
      lease: 3s
      margin: 500ms
      maximum_lag: 16MB
      synchronous: true
      automatic: false
      priority: {pg-2: 5}
      nofailover: [pg-3]
      promote_timeout: 20s
      fence_timeout: 4s
      switchover_timeout: 1m
)");
  ASSERT_OK(p);
  const FailoverPolicy& f = p->of("postgres");
  EXPECT_EQ(f.lease_ms, 3000);
  EXPECT_EQ(f.margin_ms, 500);
  EXPECT_EQ(f.maximum_lag_bytes, 16 * 1048576);
  EXPECT_TRUE(f.synchronous);
  EXPECT_FALSE(f.automatic);
  EXPECT_EQ(f.priorityOf("pg-2"), 5);
  EXPECT_TRUE(f.nofailover.count("pg-3"));
  EXPECT_EQ(f.promote_timeout_ms, 20000);
  EXPECT_EQ(f.fence_timeout_ms, 4000);
  EXPECT_EQ(f.switchover_timeout_ms, 60000);
}

TEST(FailoverPolicy, ErrorsNameThePathAndLine) {
  auto unknown = parseFailoverPolicies("services:\n  postgres:\n    failover:\n      leese: 2s\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("services.postgres.failover: unknown key 'leese'"),
            std::string::npos)
      << unknown.status().message();
  EXPECT_NE(unknown.status().message().find("line 4"), std::string::npos);
  auto margin = parseFailoverPolicies(
      "services:\n  postgres:\n    failover:\n      lease: 1s\n      margin: 2s\n");
  ASSERT_FALSE(margin.ok());
  EXPECT_NE(margin.status().message().find("shorter than the lease"), std::string::npos);
  auto size = parseFailoverPolicies("services:\n  p:\n    failover:\n      maximum_lag: lots\n");
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("services.p.failover.maximum_lag"), std::string::npos);
  auto yaml = parseFailoverPolicies("services: [");
  EXPECT_FALSE(yaml.ok());
}

}  // namespace
}  // namespace noa::controller::failover
