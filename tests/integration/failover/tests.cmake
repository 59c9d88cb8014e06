# Failover end to end: real PostgreSQL (primary + 2 streaming replicas) and real Redis (master +
# 2 replicas), an agent beside each, a real controller; kill -9, node loss, partition (a TCP
# proxy turned black hole), rejoin, synchronous mode, controller restart, switchover.
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  noa_add_test(NAME noa_failover_e2e_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/failover_pg_test.cc ${CMAKE_CURRENT_LIST_DIR}/failover_redis_test.cc
    LIBS noa_test_harness noa_test_servers PostgreSQL::PostgreSQL PkgConfig::HIREDIS
    LABELS integration)
  target_compile_definitions(noa_failover_e2e_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_failover_e2e_test noa-controller noa-agent noactl)
endif()
