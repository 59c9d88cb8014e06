noa_add_test(NAME noa_store_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/schema_test.cc ${CMAKE_CURRENT_LIST_DIR}/record_codec_test.cc
          ${CMAKE_CURRENT_LIST_DIR}/store_test.cc ${CMAKE_CURRENT_LIST_DIR}/store_open_test.cc
  LIBS noa_store RocksDB::rocksdb msgpackc-cxx)
