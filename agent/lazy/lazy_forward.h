#pragma once

// One line per forwarded function in the shims (libpq_lazy.cc, ...): defines `name` with the
// real header's signature (the header is included, so a mismatch is a compile error) and calls
// the real one through `library`. The address is looked up once per function (a function-local
// static: thread-safe, no lock afterwards). `library` is an expression giving a LazyLibrary&.
// Shim targets are built with hidden visibility: the definitions then bind only the agent's own
// calls and never interpose on a real copy of the library other code in the process loaded
// (libcpp-httplib -> libssl -> libcrypto today, the real libpq in the test servers).

#include "agent/lazy/lazy_library.h"

#define NOA_LAZY_FORWARD(library, ret, name, params, args)                                  \
  extern "C" ret name params {                                                            \
    static const auto real = reinterpret_cast<decltype(&::name)>((library).symbol(#name)); \
    return real args;                                                                      \
  }
