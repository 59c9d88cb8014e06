#include <gtest/gtest.h>

#include "agent/probes/checks.h"

namespace noa::agent {
namespace {

// Trimmed from redis 7.0 replies, CRLF line ends as on the wire.
constexpr const char* kPrimaryReplication =
    "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
    "slave0:ip=127.0.0.1,port=6380,state=online,offset=1234,lag=0\r\n"
    "master_failover_state:no-failover\r\nmaster_replid:8c2f0e\r\nmaster_repl_offset:1234\r\n"
    "repl_backlog_active:1\r\n";
constexpr const char* kReplicaReplication =
    "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.5\r\nmaster_port:6379\r\n"
    "master_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\nmaster_sync_in_progress:0\r\n"
    "slave_read_repl_offset:1200\r\nslave_repl_offset:1200\r\nslave_priority:100\r\n"
    "connected_slaves:0\r\nmaster_repl_offset:1200\r\n";
constexpr const char* kMemory =
    "# Memory\r\nused_memory:1015928\r\nused_memory_human:992.12K\r\nmaxmemory:0\r\n";

TEST(RedisFacts, PrimaryReportsOffsetReplicasAndMemory) {
  const ServiceFacts f = redisFactsFromInfo(std::string(kPrimaryReplication) + kMemory);
  EXPECT_EQ(f.role, "primary");
  EXPECT_EQ(f.attributes, (std::map<std::string, std::string>{{"connected_slaves", "1"},
                                                              {"master_repl_offset", "1234"},
                                                              {"used_memory", "1015928"}}));
}

TEST(RedisFacts, ReplicaReportsItsPrimaryAndLink) {
  const ServiceFacts f = redisFactsFromInfo(std::string(kReplicaReplication) + kMemory);
  EXPECT_EQ(f.role, "replica");
  EXPECT_EQ(f.attributes, (std::map<std::string, std::string>{{"connected_slaves", "0"},
                                                              {"master_host", "10.0.0.5"},
                                                              {"master_link_status", "down"},
                                                              {"master_port", "6379"},
                                                              {"master_repl_offset", "1200"},
                                                              {"slave_repl_offset", "1200"},
                                                              {"used_memory", "1015928"}}));
}

TEST(RedisFacts, MissingSectionsGiveWhatIsThere) {
  const ServiceFacts memory_only = redisFactsFromInfo(kMemory);
  EXPECT_EQ(memory_only.role, "");
  EXPECT_EQ(memory_only.attributes,
            (std::map<std::string, std::string>{{"used_memory", "1015928"}}));

  EXPECT_EQ(redisFactsFromInfo(""), ServiceFacts{});
  // LF-only line ends and a last line without one.
  EXPECT_EQ(
      redisFactsFromInfo("role:master\nmaster_repl_offset:7").attributes.at("master_repl_offset"),
      "7");
}

}  // namespace
}  // namespace noa::agent
