noa_add_test(NAME noa_agent_runtime_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/metrics_wiring_test.cc
  LIBS noa_agent)
