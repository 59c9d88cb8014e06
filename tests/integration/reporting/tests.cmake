# Reports reach the controller promptly (probe changes at once; llama loading vs ready).
if(TARGET noa-controller AND TARGET noa-agent)
  noa_add_test(NAME noa_reporting_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/reporting_test.cc
    LIBS noa_test_harness noa_test_servers
    LABELS integration)
  target_compile_definitions(noa_reporting_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>")
  add_dependencies(noa_reporting_test noa-controller noa-agent)
endif()
