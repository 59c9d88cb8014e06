# Self-fencing end to end: real redis-server / PostgreSQL 15 + real noa-agent + a stand-in controller (ROUTER in
# the test) that grants the leader lease, goes silent, sends fence/unfence.
if(TARGET noa-agent)
  noa_add_test(NAME noa_fencing_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/fencing_test.cc ${CMAKE_CURRENT_LIST_DIR}/pg_fencing_test.cc
    LIBS noa_test_harness noa_test_servers noa_protocol noa_transport
    LABELS integration)
  target_compile_definitions(noa_fencing_test PRIVATE NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>")
  add_dependencies(noa_fencing_test noa-agent)
endif()
