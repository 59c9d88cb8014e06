#include "agent/http/https_module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

namespace noa::agent {
namespace {

HttpsExchangeEntry g_entry = nullptr;

std::vector<std::string> candidatePaths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("NOA_AGENT_TLS_MODULE"); env != nullptr && *env != '\0') {
    paths.emplace_back(env);
  }
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    paths.push_back((exe.parent_path() / "noa-agent-tls.so").string());
    paths.push_back((exe.parent_path().parent_path() / "lib/noa/noa-agent-tls.so").string());
  }
#ifdef NOA_TLS_MODULE_BUILD_PATH
  paths.emplace_back(NOA_TLS_MODULE_BUILD_PATH);
#endif
  return paths;
}

Status loadOnce() {
  std::string tried;
  for (const std::string& path : candidatePaths()) {
    if (::access(path.c_str(), R_OK) != 0) {
      tried += (tried.empty() ? "" : ", ") + path + " (missing)";
      continue;
    }
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      tried += (tried.empty() ? "" : ", ") + path + " (" + (why ? why : "dlopen failed") + ")";
      continue;
    }
    g_entry = reinterpret_cast<HttpsExchangeEntry>(::dlsym(handle, kHttpsExchangeSymbol));
    if (g_entry != nullptr) return Status::Ok();
    tried += (tried.empty() ? "" : ", ") + path + " (no " + kHttpsExchangeSymbol + ")";
    ::dlclose(handle);
  }
  return Status::FailedPrecondition(
      "https needs the agent's TLS module noa-agent-tls.so, not loadable: tried " + tried +
      "; install it beside noa-agent or set NOA_AGENT_TLS_MODULE");
}

}  // namespace

Status loadHttpsModule() {
  static std::once_flag once;
  static Status loaded;
  std::call_once(once, [] { loaded = loadOnce(); });
  return loaded;
}

Result<HttpExchange> httpsExchange(const HttpUrl& url, const HttpRequest& request,
                                   const HttpHandlers& handlers) {
  if (Status loaded = loadHttpsModule(); !loaded.ok()) {
    return Status(loaded.code(), request.method + " " + url.origin() +
                                     url.target.substr(0, url.target.find('?')) + ": " +
                                     loaded.message());
  }
  Result<HttpExchange> out = Status::Internal("TLS module returned nothing");
  g_entry(url, request, handlers, &out);
  return out;
}

}  // namespace noa::agent
