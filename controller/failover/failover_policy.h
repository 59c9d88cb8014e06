#pragma once

// Per-service failover settings, from the `failover:` key of each service in the controller's
// policy file (schemas/policy.md, "failover"). Every postgres or redis service fails over with
// the defaults below even when the file does not name it.
//
//   services:
//     postgres:
//       failover:
//         lease: 2s                 # the primary's leader lease
//         margin: 300ms             # waited past the lease before promoting (clock drift, fence)
//         maximum_lag: 1MB          # a replica further behind is never promoted automatically
//         synchronous: false        # true: only a synchronous standby is promoted automatically
//         automatic: true           # false: manual failover/switchover only
//         priority: {pg-2: 2}       # among equally advanced candidates, higher first (default 1)
//         nofailover: [pg-3]        # never promoted (automatically or by switchover)
//         promote_timeout: 10s
//         fence_timeout: 5s
//         switchover_timeout: 30s   # how long a switchover waits for the candidate to catch up

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::controller::failover {

struct FailoverPolicy {
  int64_t lease_ms = 2000;
  int64_t margin_ms = 300;
  int64_t maximum_lag_bytes = 1048576;
  bool synchronous = false;
  bool automatic = true;
  std::map<std::string, int64_t> priority;
  std::set<std::string> nofailover;
  int64_t promote_timeout_ms = 10000;
  int64_t fence_timeout_ms = 5000;
  int64_t switchover_timeout_ms = 30000;

  int64_t priorityOf(const std::string& member) const {
    auto it = priority.find(member);
    return it == priority.end() ? 1 : it->second;
  }
  bool operator==(const FailoverPolicy&) const = default;
};

struct FailoverPolicies {
  std::map<std::string, FailoverPolicy> services;
  FailoverPolicy defaults;
  const FailoverPolicy& of(const std::string& service) const {
    auto it = services.find(service);
    return it == services.end() ? defaults : it->second;
  }
};

// The `failover:` sections of a policy file's text; other keys are left to their modules.
// InvalidArgument naming the YAML path (services.S.failover.KEY) and line.
Result<FailoverPolicies> parseFailoverPolicies(std::string_view yaml);
Result<FailoverPolicies> loadFailoverPolicies(const std::string& path);

}  // namespace noa::controller::failover
