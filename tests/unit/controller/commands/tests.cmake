# The controller's command channel core: state machine, target resolution, record codec, and
# the CommandBook over a real RocksDB in a temporary directory (fake clock, no network).
noa_add_test(NAME noa_commands_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/command_transition_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/command_target_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/command_book_test.cc
  LIBS noa_commands
  LABELS unit-concurrency)
