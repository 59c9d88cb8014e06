# Agent actions against real tools: PostgreSQL 15 (pg_dump / pg_restore) started by the tests.
noa_add_test(NAME noa_pg_actions_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/pg_actions_test.cc
  LIBS noa_actions noa_test_servers noa_test_harness
  LABELS integration)

# snapshot.create / snapshot.restore on real trees (mounts a small tmpfs as root for ENOSPC), and
# model.load against a llama-server test double (engineer C2).
noa_add_test(NAME noa_snapshot_actions_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/snapshot_test.cc
  LIBS noa_actions noa_test_harness
  LABELS integration)
noa_add_test(NAME noa_model_load_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/model_load_test.cc
  LIBS noa_actions noa_test_harness noa_test_servers
  LABELS integration)
