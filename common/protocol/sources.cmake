add_library(noa_protocol STATIC
  ${CMAKE_CURRENT_LIST_DIR}/messages.cc
  ${CMAKE_CURRENT_LIST_DIR}/codec.cc
  ${CMAKE_CURRENT_LIST_DIR}/command_params.cc
)
target_link_libraries(noa_protocol PUBLIC noa_base msgpackc-cxx)
