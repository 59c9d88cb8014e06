# Real PostgreSQL and Redis servers for integration tests (RAII: stopped by pid on destruction),
# and the one test double: a llama-server stand-in (no llama.cpp binary can run here).
add_library(noa_test_servers STATIC
  ${CMAKE_CURRENT_LIST_DIR}/server_process.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_replica_set.cc
  ${CMAKE_CURRENT_LIST_DIR}/pg_sql.cc
  ${CMAKE_CURRENT_LIST_DIR}/redis_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/llama_double.cc
)
target_link_libraries(noa_test_servers
  PUBLIC noa_base noa_process PostgreSQL::PostgreSQL PkgConfig::HIREDIS PkgConfig::HTTPLIB
         nlohmann_json::nlohmann_json)
target_include_directories(noa_test_servers PUBLIC ${PROJECT_SOURCE_DIR})
