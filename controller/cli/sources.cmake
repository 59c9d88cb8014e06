# noactl: the HTTP client, table rendering and commands live in noa_cli (tested); main is thin.
add_library(noa_cli STATIC
  ${CMAKE_CURRENT_LIST_DIR}/admin_tables.cc
  ${CMAKE_CURRENT_LIST_DIR}/autoscale_verbs.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_tables.cc
  ${CMAKE_CURRENT_LIST_DIR}/backup_verbs.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover_tables.cc
  ${CMAKE_CURRENT_LIST_DIR}/failover_verbs.cc
  ${CMAKE_CURRENT_LIST_DIR}/cli_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/client.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_tables.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_verbs.cc
  ${CMAKE_CURRENT_LIST_DIR}/commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/tables.cc
)
# noa_api for the RFC 3339 reader (time_param.h) only.
target_link_libraries(noa_cli PUBLIC noa_common PkgConfig::HTTPLIB nlohmann_json::nlohmann_json
                      PRIVATE noa_api yaml-cpp)
add_executable(noactl ${CMAKE_CURRENT_LIST_DIR}/main.cc)
target_link_libraries(noactl PRIVATE noa_cli)
