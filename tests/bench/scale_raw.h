#pragma once
// The raw ingest ceiling of noa_scale_bench: one thread with a CURVE transport::RouterSocket,
// protocol::decode, and per drain of up to 100 messages one Store::Batch (putAgent +
// appendHistory) committed, then an ack per report; a hello gets a welcome so the simulated
// agents start reporting. No sessions, registry, ZAP, liveness or API: what the controller's
// ingest could do at best on this machine, measured in the same run as the controller.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "common/status.h"

namespace noa::bench {

class RawIngest {
 public:
  // Binds on a free loopback port; `curve_secret` empty = plaintext.
  static Result<std::unique_ptr<RawIngest>> start(const std::string& store_dir,
                                                  const std::string& curve_secret);
  ~RawIngest();

  const std::string& endpoint() const { return endpoint_; }
  // CPU time of the receiver thread so far (published after each drain).
  int64_t cpuNs() const { return cpu_ns_.load(); }
  uint64_t commits() const { return commits_.load(); }
  // Stops the thread; its first error, if any.
  Status stop();

 private:
  struct Impl;
  RawIngest() = default;
  void loop();

  std::unique_ptr<Impl> impl_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> cpu_ns_{0};
  std::atomic<uint64_t> commits_{0};
  Status error_;
  std::thread thread_;
};

}  // namespace noa::bench
