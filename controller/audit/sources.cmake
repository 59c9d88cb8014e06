add_library(noa_audit STATIC
  ${CMAKE_CURRENT_LIST_DIR}/audit_log.cc
)
target_link_libraries(noa_audit PUBLIC noa_common noa_store noa_api nlohmann_json::nlohmann_json)
