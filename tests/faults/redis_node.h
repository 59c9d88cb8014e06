#pragma once

// Redis helpers shared by the partition and clock-jump trials: one command's reply, an INFO
// field, and a writer thread that SETs through a local connection every 10 ms and remembers
// the wall time of the last acknowledged write (what "the old primary accepted a write" means
// when it is compared with the controller's promote decision).

#include <hiredis/hiredis.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "tests/faults/trial.h"

namespace noa::testing::faults {

// The reply as text; ok=false on a connection error, a timeout or an error reply.
std::string redisCall(const std::string& host, int port, const std::string& command,
                      bool* ok = nullptr, int timeout_ms = 300);
std::string redisInfoField(const std::string& host, int port, const std::string& field);

class RedisWriter {
 public:
  // `enter` runs first on the writer's thread (e.g. NetLab::enterNode); may be empty.
  RedisWriter(std::string host, int port, std::function<Status()> enter = {});
  ~RedisWriter() { stop(); }
  void stop();
  int64_t lastOkMs() const { return last_ok_ms_.load(); }
  int64_t acked() const { return acked_.load(); }
  int64_t failures() const { return failures_.load(); }

 private:
  void run(std::function<Status()> enter);
  const std::string host_;
  const int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> last_ok_ms_{0};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> failures_{0};
  std::thread thread_;
};

}  // namespace noa::testing::faults
