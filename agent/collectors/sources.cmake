# noa_collectors: resource and application metrics of the supervised service (cgroup v2, process
# tree, Prometheus text scrape), turned into protocol::Metric values. Entry point:
# metrics_collector.h.
add_library(noa_collectors STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cgroup_collector.cc
  ${CMAKE_CURRENT_LIST_DIR}/cgroup_files.cc
  ${CMAKE_CURRENT_LIST_DIR}/counter_rates.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics_collector.cc
  ${CMAKE_CURRENT_LIST_DIR}/proc_collector.cc
  ${CMAKE_CURRENT_LIST_DIR}/proc_files.cc
  ${CMAKE_CURRENT_LIST_DIR}/prom_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/prom_scraper.cc
  ${CMAKE_CURRENT_LIST_DIR}/prom_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/small_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/text_fields.cc
)
target_link_libraries(noa_collectors PUBLIC noa_common noa_agent_http)
