noa_add_test(NAME noa_process_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/process_test.cc
  LIBS noa_process
  LABELS unit-concurrency)
add_dependencies(noa_process_test noa_test_child)
target_compile_definitions(noa_process_test PRIVATE
  NOA_TEST_CHILD_PATH="$<TARGET_FILE:noa_test_child>")
