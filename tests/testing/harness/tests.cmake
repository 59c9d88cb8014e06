add_library(noa_test_harness STATIC
  ${CMAKE_CURRENT_LIST_DIR}/child_process.cc
  ${CMAKE_CURRENT_LIST_DIR}/net.cc
  ${CMAKE_CURRENT_LIST_DIR}/noa_cluster.cc
  ${CMAKE_CURRENT_LIST_DIR}/tcp_proxy.cc
  ${CMAKE_CURRENT_LIST_DIR}/test_credentials.cc
  ${CMAKE_CURRENT_LIST_DIR}/test_credentials_rest.cc
  ${CMAKE_CURRENT_LIST_DIR}/test_credentials_curve.cc
)
target_link_libraries(noa_test_harness PUBLIC noa_base noa_transport noa_process PkgConfig::HTTPLIB nlohmann_json::nlohmann_json)
target_include_directories(noa_test_harness PUBLIC ${PROJECT_SOURCE_DIR})
