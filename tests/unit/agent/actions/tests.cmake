# Agent actions: shared building blocks (artifact writer, target lock, streaming runner), params
# validation (backup.verify's too) and retention, without a database.
noa_add_test(NAME noa_actions_blocks_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/artifact_file_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/target_lock_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/streaming_process_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/pg_action_params_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/retention_action_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/verify_params_test.cc
  LIBS noa_actions)

# GGUF pre-flight on generated buffers; snapshot / model.load params (engineer C2).
noa_add_test(NAME noa_actions_gguf_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/gguf_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/snapshot_model_params_test.cc
  LIBS noa_actions noa_test_harness)
