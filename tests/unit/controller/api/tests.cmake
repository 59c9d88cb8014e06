noa_add_test(NAME noa_api_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_json_test.cc ${CMAKE_CURRENT_LIST_DIR}/routes_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/api_server_test.cc ${CMAKE_CURRENT_LIST_DIR}/openapi_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/auth_test.cc ${CMAKE_CURRENT_LIST_DIR}/access_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/api_server_security_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/commands_handler_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/backups_handler_test.cc
  LIBS noa_api noa_commands noa_backups yaml-cpp PkgConfig::JWT OpenSSL::Crypto
  LABELS unit-concurrency)
target_compile_definitions(noa_api_test PRIVATE
  NOA_OPENAPI_PATH="${PROJECT_SOURCE_DIR}/schemas/openapi.yaml")
