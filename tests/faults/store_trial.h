#pragma once

// What the store trials (disk-full, slow-disk) share: a controller whose data dir is on a file
// system the trial controls, 3 agents reporting every 200 ms, and the checks around a fault:
// a ping succeeds, each agent's stored last_seq, a metric's value, and "kill -9, reopen the
// store, restart": every acknowledged command is stored, no agent's stored last_seq went back,
// every agent reports again and every acknowledged command ends succeeded.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/faults/trial.h"

namespace noa::testing::faults {

// Prints the store's lines (but not the repeated refusals) of every controller log under `dir`.
void printStoreLines(const std::string& dir);

class StoreTrialRig {
 public:
  // `dir`: the cluster's working dir; the controller's data dir is <dir>/data, which the caller
  // has already mounted. Fails naming what did not come up.
  static Result<std::unique_ptr<StoreTrialRig>> start(const std::string& dir,
                                                      const TrialOptions& options);

  NoaCluster& cluster() { return *cluster_; }
  std::string dataDir() const { return dir_ + "/data"; }
  const std::string& dir() const { return dir_; }

  // "" when a ping to the first agent succeeds within 15 s (its id joins acknowledged()).
  std::string pingSucceeds();
  std::vector<std::string>& acknowledged() { return acknowledged_; }
  // Every agent's last_seq as the REST API shows it.
  std::map<std::string, uint64_t> lastSeq();
  // The value of one series of /metrics ("" when absent), e.g. noa_store_degraded{reason="slow"}.
  std::string metric(const std::string& series);
  // GET /v1/health's status and body (0 when unreachable).
  std::pair<int, std::string> health();
  // Waits up to `timeout` for health 200, a report of every agent seen after `since_wall_ms` +
  // 300 ms, and `metric_series` back to 0. Returns why not ("" when resumed) and sets
  // `*took_ms` to the time waited.
  std::string waitResumed(int64_t since_wall_ms, const std::string& metric_series,
                          std::chrono::milliseconds timeout, int64_t* took_ms);
  // After the checks: pass with `recovery_ms`, or fail (printing the store's log lines when
  // verbose).
  void record(TrialTally& tally, const std::string& why, int64_t recovery_ms, bool verbose) const;
  // kill -9 the controller, check the store against `before` (last_seq) and acknowledged(),
  // start it again and wait for every agent and acknowledged command; "" when all holds.
  std::string crashCheckAndRestart(const std::map<std::string, uint64_t>& before);
  // Stops every process (before the caller unmounts the data dir).
  void stop() { cluster_.reset(); }

 private:
  StoreTrialRig(std::string dir, std::unique_ptr<NoaCluster> cluster)
      : dir_(std::move(dir)), cluster_(std::move(cluster)) {}

  std::string dir_;
  std::unique_ptr<NoaCluster> cluster_;
  std::vector<std::string> ids_;
  std::vector<std::string> acknowledged_;
};

}  // namespace noa::testing::faults
