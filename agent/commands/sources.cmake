# noa_agent_commands: the agent's end of the command channel: the action registry, the on-disk
# journal + result spool, and the executor the session feeds (no session wiring here).
add_library(noa_agent_commands STATIC
  ${CMAKE_CURRENT_LIST_DIR}/action_registry.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_journal.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_executor.cc
  ${CMAKE_CURRENT_LIST_DIR}/action_defaults.cc
)
target_link_libraries(noa_agent_commands PUBLIC noa_actions noa_replication noa_common)
