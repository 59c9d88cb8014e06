#pragma once

// https:// requests run in noa-agent-tls.so, a module built beside noa-agent and loaded with
// dlopen on the first https request: it links cpp-httplib with OpenSSL, whose libraries cost
// every agent about 2.5 MB of RSS at start (mapped, relocated and initialised before main)
// although most agents never speak TLS (issue 4).
//
// Where it is looked for, first found wins: $NOA_AGENT_TLS_MODULE; noa-agent-tls.so beside the
// running executable; ../lib/noa/noa-agent-tls.so from it; the build tree's copy.

#include <string>

#include "agent/http/http_client.h"

namespace noa::agent {

// The module's one entry point; `out` receives the result (never left unset).
using HttpsExchangeEntry = void (*)(const HttpUrl& url, const HttpRequest& request,
                                    const HttpHandlers& handlers, Result<HttpExchange>* out);
inline constexpr const char* kHttpsExchangeSymbol = "noa_https_exchange_v1";

// Loads the module once (thread-safe); later calls return the same answer: OK or a
// FailedPrecondition naming every path tried and dlerror().
Status loadHttpsModule();

// One https:// exchange through the module (loading it first).
Result<HttpExchange> httpsExchange(const HttpUrl& url, const HttpRequest& request,
                                   const HttpHandlers& handlers);

}  // namespace noa::agent
