#include "agent/lazy/lazy_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

namespace noa::agent::lazy {

Status LazyLibrary::load() {
  std::call_once(once_, [this] {
    // RTLD_NOW: a missing symbol fails here, with a message, not at some later call.
    // RTLD_LOCAL: its symbols stay out of the global scope (nothing opened later binds to
    // them); the shims reach them through dlsym on this handle. If the process already has
    // the library (a test binary that also links the real libpq), dlopen returns that copy.
    handle_ = ::dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* why = ::dlerror();
      error_ = std::string("cannot load ") + soname_ + " (needed for " + needed_for_ +
               "): " + (why != nullptr ? why : "unknown dlopen error") + "; install " + package_;
    }
  });
  if (handle_ == nullptr) return Status::FailedPrecondition(error_);
  return Status::Ok();
}

void* LazyLibrary::symbol(const char* name) {
  if (Status loaded = load(); !loaded.ok()) {
    std::fprintf(stderr, "noa-agent: fatal: %s (calling %s)\n", loaded.message().c_str(), name);
    std::abort();
  }
  ::dlerror();  // clear, so a stale message is not reported for this lookup
  void* address = ::dlsym(handle_, name);
  if (address == nullptr) {
    const char* why = ::dlerror();
    std::fprintf(stderr, "noa-agent: fatal: %s has no symbol %s: %s\n", soname_, name,
                 why != nullptr ? why : "null symbol");
    std::abort();
  }
  return address;
}

}  // namespace noa::agent::lazy
