add_library(noa_process STATIC
  ${CMAKE_CURRENT_LIST_DIR}/process.cc
)
target_link_libraries(noa_process PUBLIC noa_base)
