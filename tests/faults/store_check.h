#pragma once

// Reopens a stopped (or kill -9'd) controller's RocksDB store the way noa-controller does and
// checks what a crash must not lose: every agent record readable, every command the REST API
// acknowledged present. The same Store::open the controller runs, so a store this refuses is
// one the controller would refuse too.

#include <string>
#include <vector>

#include "common/status.h"

namespace noa::testing::faults {

struct StoreFacts {
  size_t agents = 0;
  size_t commands = 0;
  // last_seq per agent as stored (record brought up to its newest history entry)
  std::vector<std::pair<std::string, uint64_t>> last_seq;
};

// FailedPrecondition naming what is missing when an expected agent or command is not there.
Result<StoreFacts> checkStore(const std::string& path, const std::vector<std::string>& agents,
                              const std::vector<std::string>& command_ids);

}  // namespace noa::testing::faults
