noa_add_test(NAME noa_transport_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/curve_keys_test.cc ${CMAKE_CURRENT_LIST_DIR}/zap_handler_test.cc
  LIBS noa_transport noa_test_harness
  LABELS unit-concurrency)
