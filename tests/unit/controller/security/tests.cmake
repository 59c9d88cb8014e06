noa_add_test(NAME noa_security_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/key_registry_test.cc ${CMAKE_CURRENT_LIST_DIR}/allowlist_test.cc
  LIBS noa_security noa_test_harness)
