noa_add_test(NAME noa_session_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/outbox_test.cc ${CMAKE_CURRENT_LIST_DIR}/agent_config_test.cc
  LIBS noa_agent
  LABELS unit-concurrency)
