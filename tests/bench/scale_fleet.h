#pragma once
// The pieces noa_scale_bench's subcommands share: CURVE keys for every simulated agent
// (pre-enrolled through the controller's allowlist before it starts, so no key is ever
// pending), the real noa-controller as a child process, simulated-agent processes of up to
// `per_process` agents each (ZMQ_MAX_SOCKETS and fd limits stay comfortable), and readings
// of /proc. Every process started here is registered for the SIGINT/SIGTERM handler, which
// SIGKILLs each process group by PID; destructors do the same on a normal exit.

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/bench/scale_shared.h"
#include "tests/testing/harness/child_process.h"

namespace noa::bench {

// Installs the SIGINT/SIGTERM handler and raises RLIMIT_NOFILE to its hard limit (a
// controller with 20,000 TCP connections needs more than the usual soft limit).
void installProcessGuards();

struct ControllerFlags {
  bool curve = true;
  std::vector<std::string> extra;  // more noa-controller flags
  // The simulated agents' transport with CURVE: SimOptions::raw_zmtp (`--generator raw|zmq`).
  bool raw_generator = true;
};

class Fleet {
 public:
  // `dir` holds keys, allowlist, data dir, logs and shared-memory files.
  static Result<std::unique_ptr<Fleet>> create(const std::string& dir, int agents,
                                               ControllerFlags flags);
  ~Fleet();

  const std::string& dir() const { return dir_; }
  const std::string& serverPublicKey() const { return server_public_; }
  const std::string& serverSecretKey() const { return server_secret_; }
  std::string endpoint() const;  // the controller's ZeroMQ endpoint
  int apiPort() const { return api_port_; }

  // Starts noa-controller on the data dir (same dir again after stopController) and waits
  // until /v1/health answers. `started_ns`: monotonic time just before the fork.
  Status startController(int64_t* started_ns = nullptr);
  // SIGTERM (or SIGKILL with kill9) and wait.
  void stopController(bool kill9 = false);
  pid_t controllerPid() const;

  // A fresh shared area for `agents` agents (replaces the previous one; sims must be gone).
  Result<SimShared*> newShared(const std::string& name, int agents);
  // Starts processes for agents [first, first + count) against `endpoint`, `per_process`
  // agents each, and waits until each has created its sockets.
  Status startSims(const std::string& endpoint, bool curve, int first, int count, int per_process,
                   double rate, const std::string& kind = "http", int service_size = 10);
  // Sets stop, waits a moment for the sims to publish their CPU, then kills them.
  void stopSims();

  // Agents in [0, n) whose latest OK ack is after `after_ns`.
  int reportedSince(int n, int64_t after_ns) const;
  int welcomed(int n) const;
  uint64_t ackedTotal(int n) const;
  SimShared* shared() const { return shared_; }

 private:
  Fleet() = default;

  std::string dir_;
  int agents_ = 0;
  ControllerFlags flags_;
  std::string server_public_, server_secret_;
  int zmq_port_ = 0, api_port_ = 0;
  std::unique_ptr<testing::ChildProcess> controller_;
  std::vector<std::unique_ptr<testing::ChildProcess>> sims_;
  SimShared* shared_ = nullptr;
  std::string shared_path_;
  int controller_starts_ = 0;
};

// utime + stime in seconds; -1 when unreadable.
double processCpuSeconds(pid_t pid);
// VmRSS in bytes; 0 when unreadable.
uint64_t processRssBytes(pid_t pid);
// Bytes of regular files under dir.
uint64_t directoryBytes(const std::string& dir);
double percentile(std::vector<double> values, double p);
std::string loadAverage();

// Ingest-to-visible: hands one agent at a time (among [0, agents)) to the sims through the
// shared latency slot, then polls GET /v1/agents/{id} until last_seq reaches the report sent.
void sampleVisibleLatency(int api_port, int agents, SimShared* shared,
                          const std::atomic<bool>& stop, std::vector<double>& latencies_ms);

}  // namespace noa::bench
