# Tiny helper binaries that tests run as real subprocesses.
add_executable(noa_test_child ${CMAKE_CURRENT_LIST_DIR}/noa_test_child.cc)
target_link_libraries(noa_test_child PRIVATE noa_compile_options)
