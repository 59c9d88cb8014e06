noa_add_test(NAME noa_ingest_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/liveness_test.cc ${CMAKE_CURRENT_LIST_DIR}/ingest_core_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/controller_config_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/ingest_keys_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/ingest_commands_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/ingest_loop_test.cc
  LIBS noa_controller noa_test_harness
  LABELS unit-concurrency)
