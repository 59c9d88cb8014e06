#pragma once

// One decision the controller made (or chose not to make), with what it saw and why: the
// failover coordinator's promotions, fences and holds, the autoscaler's evaluations. Operators
// read them with `noactl decisions`; they are the answer to "why did (or didn't) it act?".
//
// JSON form (also the REST representation and, as MessagePack, the stored record):
//   {"id": "dc-<at_ms>-<n>", "at_ms": ..., "service": "postgres", "kind": "failover",
//    "action": "promote", "reason": "primary pg-1 down (postmaster exited); pg-2 most advanced",
//    "inputs": {...}, "outcome": {...}}

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace noa::controller::decisions {

struct DecisionRecord {
  std::string id;       // assigned by DecisionLog::append when empty
  int64_t at_ms = 0;    // controller wall clock; set by append when 0
  std::string service;  // required
  // What made it: "failover" | "switchover" | "fence" | "leader" | "autoscale" | ...
  std::string kind;
  // What was decided, one word: "promote", "fence", "follow", "none", "scale_up", "hold", ...
  std::string action;
  std::string reason;            // one line for people; required
  nlohmann::json inputs = nlohmann::json::object();   // what the decision saw
  nlohmann::json outcome = nlohmann::json::object();  // details: candidates, proposals, command ids
};

nlohmann::json decisionToJson(const DecisionRecord& record);
// InvalidArgument naming the key for a malformed object.
Result<DecisionRecord> decisionFromJson(const nlohmann::json& j);

}  // namespace noa::controller::decisions
