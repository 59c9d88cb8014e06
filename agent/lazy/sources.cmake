# noa_lazy: libpq, libarchive and libcrypto opened on first use (lazy_library.h) instead of being
# DT_NEEDED by noa-agent: most agents never touch them, and mapping them (plus libldap, GnuTLS,
# Kerberos, libxml2, ICU behind them) cost ~6 MB RSS before main (issue 4). Only the real
# headers are used here; linking a real library into an agent target would bring the cost back.
pkg_check_modules(LIBARCHIVE REQUIRED libarchive)

add_library(noa_lazy STATIC
  ${CMAKE_CURRENT_LIST_DIR}/lazy_library.cc
  ${CMAKE_CURRENT_LIST_DIR}/libpq_lazy.cc
  ${CMAKE_CURRENT_LIST_DIR}/libarchive_lazy.cc
  ${CMAKE_CURRENT_LIST_DIR}/libcrypto_lazy.cc
)
# Hidden: the shims bind the agent's own calls only and never interpose on a real copy another
# library of the process loaded (see lazy_forward.h).
set_target_properties(noa_lazy PROPERTIES CXX_VISIBILITY_PRESET hidden)
target_include_directories(noa_lazy SYSTEM PUBLIC
  $<TARGET_PROPERTY:PostgreSQL::PostgreSQL,INTERFACE_INCLUDE_DIRECTORIES>
  $<TARGET_PROPERTY:OpenSSL::Crypto,INTERFACE_INCLUDE_DIRECTORIES>
  ${LIBARCHIVE_INCLUDE_DIRS})
target_link_libraries(noa_lazy PUBLIC noa_common PRIVATE ${CMAKE_DL_LIBS})
