# Probes against real sockets, HTTP, subprocesses, redis-server and PostgreSQL, plus the
# noa-agent binary.
noa_add_test(NAME noa_agent_probes_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/../agent_probes_test.cc
  LIBS noa_probes noa_test_servers noa_test_harness
  LABELS integration)
if(TARGET noa-agent)
  target_compile_definitions(noa_agent_probes_test PRIVATE
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>")
  add_dependencies(noa_agent_probes_test noa-agent)
endif()
