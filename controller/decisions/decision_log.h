#pragma once

// The controller's decision log: the `decisions` column family, newest last by id
// ("dc-<at_ms 13 digits>-<counter 6 digits>", so key order is time order). Records are written
// without fsync (a decision lost in a crash is re-made on the next tick from stored state; the
// state changes it led to are stored with sync by their owners). A bounded number of records
// is kept (the oldest are deleted on append), so a flapping input cannot fill the disk.
//
// Listing reads an in-memory window of the newest `memory_records` records (what operators
// ask for); older records stay on disk for `get` and offline inspection.
//
// Repeated identical holds (same service, kind, action and reason as the newest record of that
// service and kind) are not stored again within `repeat_interval`: a tick every 100 ms saying
// "no candidate within maximum_lag" would otherwise drown the log. Such a call returns the
// newest record with `repeated = true`.
//
// Thread-safe.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/decisions/decision_record.h"
#include "controller/store/store.h"

namespace noa::controller::decisions {

struct DecisionLogOptions {
  size_t max_records = 100000;
  size_t memory_records = 5000;
  int64_t repeat_interval_ms = 60000;
};

struct DecisionFilter {
  std::string service;  // "" = any
  std::string kind;     // "" = any
  int64_t since_ms = 0;
  size_t limit = 100;   // newest `limit` matching records
};

struct AppendResult {
  DecisionRecord record;
  bool repeated = false;  // an identical record was stored recently; nothing new stored
};

class DecisionLog {
 public:
  // Loads the stored records' ids and the newest record per (service, kind). Corruption when
  // a record does not decode.
  static Result<std::unique_ptr<DecisionLog>> open(Store& store, const Clock& clock,
                                                   DecisionLogOptions options = {});

  // Stores `record` (id and at_ms assigned when empty/0). InvalidArgument without a service,
  // kind or reason; the store's error when the commit fails (nothing changes in memory).
  Result<AppendResult> append(DecisionRecord record);

  // Newest first.
  Result<std::vector<DecisionRecord>> list(const DecisionFilter& filter) const;
  Result<std::optional<DecisionRecord>> get(const std::string& id) const;

 private:
  DecisionLog(Store& store, const Clock& clock, DecisionLogOptions options)
      : store_(store), clock_(clock), options_(options) {}

  Store& store_;
  const Clock& clock_;
  DecisionLogOptions options_;
  mutable std::mutex mu_;
  std::deque<std::string> ids_;           // stored ids, oldest first
  std::deque<DecisionRecord> recent_;     // the newest memory_records, oldest first
  std::map<std::pair<std::string, std::string>, DecisionRecord> newest_;  // by (service, kind)
  int64_t last_ms_ = 0;
  uint32_t counter_ = 0;
};

}  // namespace noa::controller::decisions
