#pragma once

// A shared library the agent opens on first use instead of listing it as DT_NEEDED, so an agent
// that never needs it does not pay for mapping and relocating it (and everything it drags in)
// before main (issue 4: libpq alone costs ~3 MB RSS through libldap, GnuTLS, Kerberos).
// The per-library shims (libpq_lazy.cc, ...) define the library's functions and forward each
// call through symbol(); callers check load() first where a failure must be a Status.

#include <mutex>
#include <string>

#include "common/status.h"

namespace noa::agent::lazy {

class LazyLibrary {
 public:
  // `soname` is what dlopen gets ("libpq.so.5"); `needed_for` and `package` only word the error.
  LazyLibrary(const char* soname, const char* needed_for, const char* package)
      : soname_(soname), needed_for_(needed_for), package_(package) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // dlopen(RTLD_NOW | RTLD_LOCAL) once, from any thread; later calls return the same outcome.
  // "cannot load libpq.so.5 (needed for postgres): <dlerror>; install libpq5".
  Status load();

  // The address of `name`, loading the library if needed. Aborts with a message on stderr when
  // the library or the symbol is missing: reached only through a shim after load() was checked
  // (or by a caller that did not check, a programming error), so there is no Status to return.
  void* symbol(const char* name);

  const char* soname() const { return soname_; }

 private:
  const char* soname_;
  const char* needed_for_;
  const char* package_;
  std::once_flag once_;
  void* handle_ = nullptr;  // written once under once_, read-only afterwards
  std::string error_;       // why dlopen failed (empty on success)
};

}  // namespace noa::agent::lazy
