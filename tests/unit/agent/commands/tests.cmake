# The agent's command channel core: registry, journal + spool, executor, with real actions in
# temporary directories (no database, no network).
noa_add_test(NAME noa_agent_commands_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/command_executor_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/action_defaults_test.cc
  LIBS noa_agent_commands
  LABELS unit-concurrency)
