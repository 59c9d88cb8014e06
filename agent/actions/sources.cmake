# noa_actions: agent-side actions (backup, restore, snapshot, model load, retention) as a library
# the command channel calls; each action is a params struct + one run function (see action.h).
add_library(noa_actions STATIC
  ${CMAKE_CURRENT_LIST_DIR}/artifact_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/artifact_recovery.cc
  ${CMAKE_CURRENT_LIST_DIR}/target_lock.cc
  ${CMAKE_CURRENT_LIST_DIR}/action_params.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_common.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_dump_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_restore_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/retention_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/verify_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/gguf.cc
  ${CMAKE_CURRENT_LIST_DIR}/snapshot_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_load_action.cc
)
target_link_libraries(noa_actions
  PUBLIC noa_common noa_process nlohmann_json::nlohmann_json noa_lazy
  PRIVATE noa_agent_http)
