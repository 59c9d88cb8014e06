# noa_replication: what an agent does to its replicated service on the controller's command or
# on its own when it loses the leader lease: promote, follow a new primary (pg_rewind when
# needed), fence and unfence (service_fence.h). PostgreSQL through libpq and its tools, Redis
# through hiredis.
add_library(noa_replication STATIC
  ${CMAKE_CURRENT_LIST_DIR}/replication_common.cc
  ${CMAKE_CURRENT_LIST_DIR}/detached_spawn.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_control.cc
  ${CMAKE_CURRENT_LIST_DIR}/redis_session.cc
  ${CMAKE_CURRENT_LIST_DIR}/service_fences.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_promote_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_follow_action.cc
  ${CMAKE_CURRENT_LIST_DIR}/redis_actions.cc
)
target_link_libraries(noa_replication
  PUBLIC noa_common noa_actions noa_process noa_lazy PkgConfig::HIREDIS
         nlohmann_json::nlohmann_json)
