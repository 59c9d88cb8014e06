#pragma once

// Where the REST server records mutating calls: one entry per request to a mutating route
// (method other than GET), after it was answered, whatever the answer (401, 403, 429 and other
// refusals included). An entry names who, what, when and the result; it never holds the request
// body or the token. The controller stores entries in RocksDB (GET /v1/audit, `noactl audit`).
// record() is called from the server's pool threads, so implementations must be thread-safe;
// it must not block for long (it delays the connection's next request, not its answer).

#include <cstdint>
#include <string>

namespace noa::controller::api {

struct AuditEntry {
  int64_t ts_ms = 0;   // wall clock, unix ms, when the answer was made
  std::string actor;   // token NAME or JWT sub; "anonymous" when no valid token
  std::string role;    // the caller's role ("public" when unknown)
  std::string method;  // "POST", ...
  std::string path;    // the concrete path (no query string)
  std::string route;   // the route template, e.g. "/v1/keys/{id}/accept"
  int status = 0;      // the HTTP status answered
  std::string detail;  // the problem's detail for refusals, else empty
  std::string remote;  // client address
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void record(const AuditEntry& entry) = 0;
};

}  // namespace noa::controller::api
