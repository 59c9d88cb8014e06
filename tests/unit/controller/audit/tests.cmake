noa_add_test(NAME noa_audit_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/audit_log_test.cc
  LIBS noa_audit noa_store)
