noa_add_test(NAME noa_cli_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/tables_test.cc ${CMAKE_CURRENT_LIST_DIR}/cli_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/cli_auth_test.cc ${CMAKE_CURRENT_LIST_DIR}/command_verbs_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/backup_verbs_test.cc
  LIBS noa_cli noa_api noa_commands noa_backups PkgConfig::JWT OpenSSL::Crypto
  LABELS unit-concurrency)

# The noactl binary as a child process.
noa_add_test(NAME noa_noactl_process_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/noactl_process_test.cc
  LIBS noa_api noa_commands noa_backups noa_test_harness noa_transport PkgConfig::JWT
       OpenSSL::Crypto
  LABELS integration)
target_compile_definitions(noa_noactl_process_test PRIVATE NOA_CTL_BIN="$<TARGET_FILE:noactl>")
add_dependencies(noa_noactl_process_test noactl)
