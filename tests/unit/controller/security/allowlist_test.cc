#include "controller/security/allowlist.h"

#include <gtest/gtest.h>

#include "common/transport/curve_keys.h"

namespace noa::controller {
namespace {

TEST(Allowlist, ParsesEntriesAndSkipsCommentsAndBlankLines) {
  const std::string k1 = transport::generateKeyPair()->public_key;
  const std::string k2 = transport::generateKeyPair()->public_key;
  auto entries = parseAllowlist("# fleet\n\nredis-1 " + k1 + "\n  pg-1\t" + k2 + "  # db\n", "f");
  ASSERT_TRUE(entries.ok()) << entries.status().toString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].agent_id, "redis-1");
  EXPECT_EQ((*entries)[0].key_id, transport::keyIdOf(k1).value());
  EXPECT_EQ((*entries)[0].line, 3);
  EXPECT_EQ((*entries)[1].agent_id, "pg-1");
  EXPECT_EQ((*entries)[1].public_key, k2);
}

TEST(Allowlist, ABadLineNamesFileAndLine) {
  const std::string k = transport::generateKeyPair()->public_key;
  struct Case {
    std::string text;
    std::string expected;
  };
  for (const auto& c : std::vector<Case>{{"a\n", "allow:1: expected"},
                                         {"# c\nbad/id " + k, "allow:2: agent id 'bad/id'"},
                                         {"a notakey", "allow:1:"},
                                         {"a " + k + " extra", "allow:1: unexpected 'extra'"},
                                         {"a " + k + "\na " + k, "allow:2: agent id 'a'"},
                                         {"a " + k + "\nb " + k, "allow:2: key"}}) {
    auto parsed = parseAllowlist(c.text, "allow");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.expected), std::string::npos)
        << parsed.status().message();
  }
}

TEST(Allowlist, AgentIds) {
  EXPECT_TRUE(isValidAgentId("redis-1.a_b"));
  EXPECT_FALSE(isValidAgentId(""));
  EXPECT_FALSE(isValidAgentId(std::string(65, 'a')));
  EXPECT_FALSE(isValidAgentId("a b"));
}

}  // namespace
}  // namespace noa::controller
