# REST security end to end: a real noa-controller with tokens, JWT and TLS, and the real noactl.
if(TARGET noa-controller AND TARGET noactl)
  noa_add_test(NAME noa_rest_security_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/rest_security_test.cc
    LIBS noa_test_harness noa_transport PkgConfig::JWT
    LABELS integration)
  target_compile_definitions(noa_rest_security_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_rest_security_test noa-controller noactl)
endif()

# The agent channel's CURVE enrollment end to end: real controller, agents and redis-server.
if(TARGET noa-controller AND TARGET noa-agent)
  noa_add_test(NAME noa_curve_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/curve_test.cc
    LIBS noa_test_harness
    LABELS integration)
  target_compile_definitions(noa_curve_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>")
  add_dependencies(noa_curve_test noa-controller noa-agent)
endif()
