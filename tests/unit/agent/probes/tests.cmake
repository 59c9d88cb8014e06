noa_add_test(NAME noa_probes_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/probe_state_test.cc ${CMAKE_CURRENT_LIST_DIR}/probe_spec_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/redis_facts_test.cc
  LIBS noa_probes)
noa_add_test(NAME noa_probe_wiring_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/probe_wiring_test.cc
  LIBS noa_agent)
