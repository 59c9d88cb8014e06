# Autoscaler benchmark (an executable, not a CTest test): CPU per service per tick with 1,000
# services, and reaction time from a crossing in reports to the actuator call.
add_executable(noa_autoscale_bench ${CMAKE_CURRENT_LIST_DIR}/autoscale_bench.cc)
target_link_libraries(noa_autoscale_bench PRIVATE noa_autoscale noa_store)
target_include_directories(noa_autoscale_bench PRIVATE ${PROJECT_SOURCE_DIR})
