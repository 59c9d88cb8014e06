#pragma once

// Notices at once when the service's process exits, without being its parent: a pidfd
// (pidfd_open, Linux >= 5.3) becomes readable when the process ends, and a thread polls it.
// After an exit the PID source is read again every `rescan` so a restarted server is picked up.
// The controller fails over on `service_process=exited` without waiting for probe thresholds,
// so this must be quick and must not be fooled by a stale pidfile (a PID that no longer runs
// counts as exited; a zombie too).
//
// Where the PID comes from: --service-pid, else --service-pidfile, else for postgres the first
// line of <pg_data_dir>/postmaster.pid. None of them: nothing is watched (state stays unknown).
// Owns one thread and at most two fds (the pidfd and an eventfd to stop it); stop() ends both.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "agent/runtime/agent_config.h"
#include "common/clock.h"

namespace noa::agent {

enum class ProcessState { kUnknown, kRunning, kExited };
// "" | "running" | "exited" (the report's `service_process` attribute).
std::string_view processStateName(ProcessState state);

struct ServiceWatchOptions {
  int64_t pid = 0;      // a fixed PID
  std::string pidfile;  // else: the PID on this file's first line
  Millis rescan{100};   // how often the PID source is read while nothing runs
};

// The options for this agent's flags; nullopt when there is no PID source.
std::optional<ServiceWatchOptions> serviceWatchOptions(const AgentConfig& config);

// Reads the PID on a pidfile's first line; 0 when the file is missing or holds no PID.
pid_t readPidFile(const std::string& path);

class ServiceWatch {
 public:
  // Called from the watch thread when the state or the PID changes (keep it short).
  using OnChange = std::function<void(ProcessState state, pid_t pid)>;

  ServiceWatch(ServiceWatchOptions options, OnChange on_change);
  ~ServiceWatch();  // stop()
  ServiceWatch(const ServiceWatch&) = delete;
  ServiceWatch& operator=(const ServiceWatch&) = delete;

  void start();
  void stop();

  ProcessState state() const;
  pid_t pid() const;  // 0 when none was seen

 private:
  void run();
  pid_t resolve() const;
  // A pidfd for `pid` if it is alive (-1 if not); with pidfds unsupported, -2 when alive.
  int openIfAlive(pid_t pid);
  void publish(ProcessState state, pid_t pid);

  ServiceWatchOptions options_;
  OnChange on_change_;
  int stop_fd_ = -1;
  std::atomic<bool> stopping_{false};
  bool pidfd_supported_ = true;
  mutable std::mutex mu_;
  ProcessState state_ = ProcessState::kUnknown;
  pid_t pid_ = 0;
  std::thread thread_;
};

}  // namespace noa::agent
