#pragma once
// Simulated agents for the ingest benchmark: N DEALERs on one thread, each sending a
// realistic report as soon as the previous one was acknowledged (or at a fixed rate), so the
// load follows what the receiver can store rather than piling up in ZeroMQ queues.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "common/protocol/messages.h"
#include "common/status.h"

namespace noa::bench {

// 40 metrics and 2 probes, about the size of a real agent's report.
protocol::Envelope makeReport(const std::string& agent_id, uint64_t seq, int64_t ts_ms);
protocol::Envelope makeHello(const std::string& agent_id);

// One report handed from the load thread to the latency sampler: the sampler names an agent,
// the load thread fills in the next report it sends for it.
struct LatencySlot {
  std::atomic<int> agent{-1};
  std::atomic<bool> ready{false};
  std::atomic<uint64_t> seq{0};
  std::atomic<int64_t> sent_ns{0};  // steady clock
};

struct LoadOptions {
  std::string endpoint;
  int agents = 100;
  double seconds = 10;
  double rate = 0;        // reports per agent per second; 0 = next one as soon as acked
  bool say_hello = true;  // false against the raw receiver, which has no sessions
  LatencySlot* latency = nullptr;
  std::function<void()> on_start;  // measurement window opens (all sessions established)
  std::function<void()> on_stop;
};

struct LoadResult {
  uint64_t acked = 0;    // accepted acks inside the window
  uint64_t refused = 0;  // acks with an error inside the window
  double elapsed_s = 0;
  double generator_cpu_s = 0;  // this load thread's CPU inside the window (shares the 2 cores)
};

std::string agentId(int index);

Result<LoadResult> runLoad(const LoadOptions& options);

int64_t steadyNowNs();
int64_t threadCpuNs();

}  // namespace noa::bench
