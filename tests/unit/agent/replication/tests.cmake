# The replication module's pure parts (postmaster.opts, pg_controldata, postgresql.auto.conf,
# conninfo and literal quoting, strict params) and how the agent registers its actions: no
# servers.
noa_add_test(NAME noa_replication_unit_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/replication_logic_test.cc
  LIBS noa_replication noa_agent_commands)
