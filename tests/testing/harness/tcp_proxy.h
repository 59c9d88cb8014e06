#pragma once

// A TCP forwarder on 127.0.0.1 for partition tests: agents connect to it instead of the
// controller. cut() makes it a black hole (connections stay open, bytes in both directions are
// dropped, as when a network path fails silently); heal() closes what was cut and forwards new
// connections again. One thread; stopped and joined on destruction.

#include <atomic>
#include <memory>
#include <thread>

#include "common/status.h"

namespace noa::testing {

class TcpProxy {
 public:
  static Result<std::unique_ptr<TcpProxy>> start(int target_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  void cut() { cut_.store(true); }
  void heal() {
    heal_requested_.store(true);
    cut_.store(false);
  }

 private:
  TcpProxy() = default;
  void run();

  int listen_fd_ = -1;
  int port_ = 0;
  int target_port_ = 0;
  std::atomic<bool> cut_{false};
  std::atomic<bool> heal_requested_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace noa::testing
