# noa_agent_http: the agent's HTTP client and server (Boost.Beast's parser, header-only, over
# plain sockets with deadlines) and the loader of noa-agent-tls.so, the module that serves
# https:// with cpp-httplib + OpenSSL only when an agent needs it (issue 4: agent RSS).
add_library(noa_agent_http STATIC
  ${CMAKE_CURRENT_LIST_DIR}/deadline_socket.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/http_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/https_module.cc
  ${CMAKE_CURRENT_LIST_DIR}/tcp_connect.cc
)
target_link_libraries(noa_agent_http PUBLIC noa_common Boost::headers Threads::Threads
                      PRIVATE ${CMAKE_DL_LIBS})
# Tests run from build/tests: let them find the module in the build tree.
target_compile_definitions(noa_agent_http PRIVATE
  NOA_TLS_MODULE_BUILD_PATH="$<TARGET_FILE:noa-agent-tls>")
add_dependencies(noa_agent_http noa-agent-tls)

# Its own copy of Status (the static libraries are not position-independent).
add_library(noa-agent-tls MODULE
  ${CMAKE_CURRENT_LIST_DIR}/tls/https_exchange.cc
  ${PROJECT_SOURCE_DIR}/common/status.cc
)
set_target_properties(noa-agent-tls PROPERTIES PREFIX "" OUTPUT_NAME noa-agent-tls
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/agent CXX_VISIBILITY_PRESET hidden)
target_link_libraries(noa-agent-tls PRIVATE noa_compile_options PkgConfig::HTTPLIB OpenSSL::SSL
                      OpenSSL::Crypto)
