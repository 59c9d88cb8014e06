add_library(noa_probes STATIC
  ${CMAKE_CURRENT_LIST_DIR}/probe_spec.cc
)
target_link_libraries(noa_probes
  PUBLIC noa_common noa_process PkgConfig::HTTPLIB PostgreSQL::PostgreSQL PkgConfig::HIREDIS)
