# End-to-end: a controller and agents as real processes. Needs every binary.
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  noa_add_test(NAME noa_cluster_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/cluster_test.cc
    LIBS noa_test_harness noa_protocol
    LABELS integration-concurrency)
  target_compile_definitions(noa_cluster_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_cluster_test noa-controller noa-agent noactl)
endif()
