#pragma once

// What every fault trial kind shares: its options, the tally it returns (trials, passes, the
// worst recovery time, why each failure failed) and small helpers (wall clock in unix ms,
// RFC 3339 parsing of the REST timestamps, running `ip`/`mount` and friends as values).
//
// A kind sets its environment up once, runs `trials` bounded trials against it and tears it
// down (every process stopped by PID through ChildProcess, namespaces and mounts removed) even
// when a trial fails. The runner (noa_fault_trials) prints the tally; the ctest share
// (noa_fault_trials_test) runs a few trials of each kind and expects every one to pass.

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/testing/harness/noa_cluster.h"

namespace noa::testing::faults {

struct TrialOptions {
  int trials = 3;
  NoaBinaries binaries;
  bool verbose = false;
  uint32_t seed = 1;  // for the random kill moments; printed so a run can be repeated
};

struct TrialTally {
  std::string kind;
  int trials = 0;
  int passed = 0;
  // Per kind: controller-kill = restart -> every agent reporting again; agent-kill = restart
  // -> command terminal; partition = cut -> promote; disk-full = space back -> ingest resumes;
  // slow-disk = thaw -> ingest resumes;
  // clock-jump = longest lease gap seen.
  int64_t worst_recovery_ms = 0;
  std::string recovery_what;
  std::vector<std::string> failures;  // "trial N: why"
  std::vector<std::string> notes;     // figures worth printing besides the tally
  void pass(int64_t recovery_ms) {
    ++trials;
    ++passed;
    if (recovery_ms > worst_recovery_ms) worst_recovery_ms = recovery_ms;
  }
  void fail(const std::string& why) {
    ++trials;
    failures.push_back("trial " + std::to_string(trials) + ": " + why);
  }
  std::string summary() const;
};

using TrialKind = TrialTally (*)(const TrialOptions&);
struct KindInfo {
  const char* name;
  TrialKind run;
  const char* what;
};
// Every kind, in the order --help lists them.
const std::vector<KindInfo>& allKinds();

TrialTally controllerKillTrials(const TrialOptions& options);
TrialTally agentKillTrials(const TrialOptions& options);
TrialTally partitionTrials(const TrialOptions& options);
TrialTally diskFullTrials(const TrialOptions& options);
TrialTally slowDiskTrials(const TrialOptions& options);
TrialTally clockJumpTrials(const TrialOptions& options);

// ---- helpers (trial_util.cc)
int64_t wallMs();
int64_t sinceMs(std::chrono::steady_clock::time_point start);
// "2026-12-01T23:14:06.123Z" -> unix ms; 0 for null or unparsable.
int64_t rfc3339Ms(const nlohmann::json& value);
// Runs argv (no shell) with a deadline; an error naming the command and its stderr unless it
// exits 0. Returns stdout.
Result<std::string> run(const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20));
// POST /v1/commands; the new command's id.
Result<std::string> createCommand(NoaCluster& cluster, const nlohmann::json& body);
// GET /v1/commands/{id}'s state ("" when unreadable).
std::string commandState(NoaCluster& cluster, const std::string& id);
bool isTerminal(const std::string& state);
// Log lines of every file in `dir` whose name starts with `prefix` that contain `needle`.
size_t countLogLines(const std::string& dir, const std::string& prefix, const std::string& needle,
                     const std::string& and_needle = "");

// The "ts" (unix ms) of the first JSON log line at or after since_ms containing `needle`, in
// the files of `dir` whose name starts with `prefix`; 0 when none.
int64_t firstLogTime(const std::string& dir, const std::string& prefix, const std::string& needle,
                     int64_t since_ms);

}  // namespace noa::testing::faults
