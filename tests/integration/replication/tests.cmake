# Replication actions (pg.promote, pg.follow with pg_rewind, redis.promote, redis.follow) and the
# service fences against real PostgreSQL 15 replica sets and real redis-servers.
noa_add_test(NAME noa_replication_actions_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/replication_actions_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/redis_replication_test.cc
  LIBS noa_replication noa_probes noa_test_servers noa_test_harness
  LABELS integration)
