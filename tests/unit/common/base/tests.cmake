noa_add_test(NAME noa_base_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/duration_test.cc ${CMAKE_CURRENT_LIST_DIR}/flags_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/status_test.cc
  LIBS noa_base)
