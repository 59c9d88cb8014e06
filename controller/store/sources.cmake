add_library(noa_store STATIC
  ${CMAKE_CURRENT_LIST_DIR}/batch.cc
  ${CMAKE_CURRENT_LIST_DIR}/history_refresh.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_record.cc
  ${CMAKE_CURRENT_LIST_DIR}/key_codec.cc
  ${CMAKE_CURRENT_LIST_DIR}/record_codec.cc
  ${CMAKE_CURRENT_LIST_DIR}/rocks_store.cc
  ${CMAKE_CURRENT_LIST_DIR}/rocks_util.cc
  ${CMAKE_CURRENT_LIST_DIR}/schema.cc
  ${CMAKE_CURRENT_LIST_DIR}/store.cc
)
target_link_libraries(noa_store PUBLIC noa_common noa_registry PRIVATE RocksDB::rocksdb msgpackc-cxx)
