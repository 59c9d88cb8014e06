# Autoscaling end to end: a real controller scales a sample HTTP service with the local
# actuator (replica processes with their own agents) on its reported request rate.
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  noa_add_test(NAME noa_autoscale_e2e_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/local_autoscale_test.cc
    LIBS noa_test_harness
    LABELS integration)
  target_compile_definitions(noa_autoscale_e2e_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_autoscale_e2e_test noa-controller noa-agent noactl)
endif()
