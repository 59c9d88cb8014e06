# noa_policy: reading the controller's YAML policy file the same way in every module.
add_library(noa_policy STATIC ${CMAKE_CURRENT_LIST_DIR}/yaml_fields.cc)
target_link_libraries(noa_policy PUBLIC noa_common yaml-cpp)
