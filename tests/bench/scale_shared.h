#pragma once
// State shared between noa_scale_bench and its simulated-agent processes: one file mapped
// MAP_SHARED by all of them. A pipe or a log would need parsing on the hot path; lock-free
// atomics in shared memory let the parent read every agent's progress at any moment (the
// storm and fan-out figures need "when did the last agent ...") without stopping anyone.
// Times are CLOCK_MONOTONIC nanoseconds (steady_clock), which is one clock for every process
// of the machine.

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace noa::bench {

struct SimAgentSlot {
  std::atomic<uint64_t> acked{0};    // reports acknowledged without error
  std::atomic<uint64_t> refused{0};  // acks with an error (hello_required included)
  std::atomic<int64_t> last_ok_ack_ns{0};
  std::atomic<int64_t> welcomed_ns{0};  // the latest welcome
  std::atomic<uint64_t> commands{0};    // command messages received
  std::atomic<int64_t> last_command_ns{0};
  std::atomic<uint64_t> results_acked{0};  // our results the controller stored
  std::atomic<int64_t> last_result_ack_ns{0};
};

// The ingest-to-visible sampler's hand-off (as LatencySlot in ingest_load.h, across processes).
struct SharedLatencySlot {
  std::atomic<int> agent{-1};
  std::atomic<bool> ready{false};
  std::atomic<uint64_t> seq{0};
  std::atomic<int64_t> sent_ns{0};
};

struct SimShared {
  std::atomic<bool> stop{false};
  std::atomic<int> processes_ready{0};       // processes that created all their sockets
  std::atomic<int64_t> generator_cpu_ns{0};  // CPU of all sim processes, published as they run
  SharedLatencySlot latency;
  int agent_count = 0;
  SimAgentSlot agents[1];  // agent_count of them (the mapping is sized for it)
};

// Creates (truncating) and maps a file for `agents` slots; the parent does this.
Result<SimShared*> createShared(const std::string& path, int agents);
// Maps an existing file; the simulated-agent processes do this.
Result<SimShared*> openShared(const std::string& path);

int64_t monoNowNs();

}  // namespace noa::bench
