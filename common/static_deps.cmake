# ZeroMQ, spdlog and Boost.Program_options are linked into noa's executables, not loaded as
# shared libraries (issue 4: agent RSS <= 8 MB). Every shared library costs a process its
# loader's work before main(): mapping, relocating and initialising all of it, about 0.3-0.7 MB
# of RSS each, whatever is used. Linked statically, only the code a process runs is paged in.
# The archives are Debian's own (libzmq3-dev, libsodium-dev, libpgm-dev, libnorm-dev,
# libbsd-dev, libboost-program-options-dev); spdlog and fmt are used header-only.
#   noa_zmq     libzmq + cppzmq for common/transport
#   noa_spdlog  spdlog + fmt, header-only, for common/log.cc
set(NOA_ARCHIVES zmq sodium pgm norm protokit bsd md)
set(NOA_ZMQ_ARCHIVES "")
foreach(name ${NOA_ARCHIVES})
  find_library(NOA_ARCHIVE_${name} NAMES lib${name}.a REQUIRED)
  list(APPEND NOA_ZMQ_ARCHIVES ${NOA_ARCHIVE_${name}})
endforeach()

# Debian's libzmq.a carries its GSSAPI mechanism, which would pull in the Kerberos libraries
# (another 0.6 MB per process); noa authenticates with CURVE only, so these stubs stand in for
# the 13 GSSAPI symbols and fail if they are ever called (gssapi_absent.cc).
add_library(noa_gssapi_absent STATIC ${CMAKE_CURRENT_LIST_DIR}/transport/gssapi_absent.cc)
target_link_libraries(noa_gssapi_absent PRIVATE noa_compile_options)

add_library(noa_zmq INTERFACE)
target_include_directories(noa_zmq INTERFACE $<TARGET_PROPERTY:cppzmq,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_definitions(noa_zmq INTERFACE ZMQ_STATIC)
target_link_libraries(noa_zmq INTERFACE ${NOA_ZMQ_ARCHIVES} noa_gssapi_absent Threads::Threads)

find_package(fmt REQUIRED)
add_library(noa_spdlog INTERFACE)
target_compile_definitions(noa_spdlog INTERFACE SPDLOG_FMT_EXTERNAL)
target_link_libraries(noa_spdlog INTERFACE fmt::fmt-header-only Threads::Threads)
