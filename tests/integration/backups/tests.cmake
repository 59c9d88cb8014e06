# Backups end to end: a policy file, the catalog, verify, drills and restore with real PostgreSQL.
if(TARGET noa-controller AND TARGET noa-agent AND TARGET noactl)
  noa_add_test(NAME noa_backups_e2e_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/backups_test.cc
    LIBS noa_test_harness noa_test_servers
    LABELS integration)
  target_compile_definitions(noa_backups_e2e_test PRIVATE
    NOA_CONTROLLER_BIN="$<TARGET_FILE:noa-controller>"
    NOA_AGENT_BIN="$<TARGET_FILE:noa-agent>"
    NOA_CTL_BIN="$<TARGET_FILE:noactl>")
  add_dependencies(noa_backups_e2e_test noa-controller noa-agent noactl)
endif()
