#include "common/signal_watcher.h"

#include <signal.h>

#include "common/log.h"

namespace noa {

std::thread startSignalWatcher(StopToken& stop) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return std::thread([set, &stop] {
    while (!stop.stopRequested()) {
      timespec timeout{0, 200'000'000};
      const int sig = sigtimedwait(&set, nullptr, &timeout);
      if (sig == SIGINT || sig == SIGTERM) {
        log::info("stopping", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        stop.requestStop();
      }
    }
  });
}

}  // namespace noa
