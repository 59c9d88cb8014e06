# The command channel end to end: real controller, agents, PostgreSQL and noactl.
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  noa_add_test(NAME noa_commands_e2e_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/commands_test.cc
    LIBS noa_test_harness noa_test_servers
    LABELS integration-concurrency)
  target_compile_definitions(noa_commands_e2e_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_commands_e2e_test noa-controller noa-agent noactl)
endif()
