#pragma once

// The controller writes an agent's record at its hello, at liveness changes and at checkpoints,
// but every acknowledged report at once to history (IngestOptions::record_checkpoint_every).
// After a restart, or a kill -9, the record may be behind its history by up to one checkpoint:
// this brings each loaded record up to its newest history entry, so the registry starts from
// the last acknowledged report (its role among them, which failover reads).

#include <vector>

#include "common/status.h"
#include "controller/registry/agent_record.h"
#include "controller/store/store.h"

namespace noa::controller {

// Returns how many records were brought forward. A history read failure fails the whole call
// (the records are left as loaded); an unreadable newest entry is skipped like any read does.
Result<size_t> refreshFromHistory(const Store& store, std::vector<AgentRecord>& agents);

}  // namespace noa::controller
