#include "agent/runtime/service_watch.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "common/log.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace noa::agent {

std::string_view processStateName(ProcessState state) {
  switch (state) {
    case ProcessState::kUnknown:
      return "";
    case ProcessState::kRunning:
      return "running";
    case ProcessState::kExited:
      return "exited";
  }
  return "";
}

std::optional<ServiceWatchOptions> serviceWatchOptions(const AgentConfig& config) {
  ServiceWatchOptions options;
  if (config.service_pid > 0) {
    options.pid = config.service_pid;
  } else if (!config.service_pidfile.empty()) {
    options.pidfile = config.service_pidfile;
  } else if (config.kind == "postgres" && !config.pg_data_dir.empty()) {
    // The postmaster writes its PID on the first line and removes the file at a clean stop.
    options.pidfile = config.pg_data_dir + "/postmaster.pid";
  } else {
    return std::nullopt;
  }
  return options;
}

pid_t readPidFile(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return 0;
  try {
    size_t used = 0;
    const long pid = std::stol(line, &used);
    return pid > 0 && pid < (1L << 22) ? static_cast<pid_t>(pid) : 0;
  } catch (...) {  // not a number: treated as no PID (a pidfile being written)
    return 0;
  }
}

ServiceWatch::ServiceWatch(ServiceWatchOptions options, OnChange on_change)
    : options_(std::move(options)), on_change_(std::move(on_change)) {}

ServiceWatch::~ServiceWatch() { stop(); }

void ServiceWatch::start() {
  if (thread_.joinable()) return;
  stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void ServiceWatch::stop() {
  stopping_ = true;
  if (stop_fd_ >= 0) {
    const uint64_t one = 1;
    (void)::write(stop_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (stop_fd_ >= 0) {
    ::close(stop_fd_);
    stop_fd_ = -1;
  }
}

ProcessState ServiceWatch::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

pid_t ServiceWatch::pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pid_;
}

pid_t ServiceWatch::resolve() const {
  if (options_.pid > 0) return static_cast<pid_t>(options_.pid);
  return readPidFile(options_.pidfile);
}

int ServiceWatch::openIfAlive(pid_t pid) {
  if (pidfd_supported_) {
    const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd >= 0) {
      // Readable at once: the process has already ended (a zombie, or just now).
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        ::close(fd);
        return -1;
      }
      return fd;
    }
    if (errno != ENOSYS) return -1;
    pidfd_supported_ = false;
    log::warn("pidfd_open is not supported by this kernel; polling the service's PID instead");
  }
  return ::kill(pid, 0) == 0 || errno == EPERM ? -2 : -1;
}

void ServiceWatch::publish(ProcessState state, pid_t pid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state == state_ && pid == pid_) return;
    state_ = state;
    pid_ = pid;
  }
  if (on_change_) on_change_(state, pid);
}

void ServiceWatch::run() {
  int fd = -1;  // pidfd, or -2 for a live PID polled with kill(0)
  pid_t watched = 0;
  const int rescan_ms = static_cast<int>(std::max<int64_t>(options_.rescan.count(), 1));
  while (!stopping_) {
    if (fd == -1) {
      const pid_t pid = resolve();
      if (pid > 0) {
        const int opened = openIfAlive(pid);
        // The pidfile may have been rewritten between reading it and opening the pidfd.
        if (opened != -1 && resolve() == pid) {
          fd = opened;
          watched = pid;
          publish(ProcessState::kRunning, pid);
        } else {
          if (opened >= 0) ::close(opened);
          // A PID that does not run (stale pidfile, crashed server): the service is down.
          if (opened == -1) publish(ProcessState::kExited, pid);
        }
      }
      // No PID at all (pidfile missing): the last state stands; a clean stop removes the file.
    }
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    const nfds_t count = fd >= 0 ? 2 : 1;
    const int rc = ::poll(fds, count, fd >= 0 ? -1 : rescan_ms);
    if (rc < 0 && errno != EINTR) {
      log::warn("service watch: poll failed", {{"errno", errno}});
      if (!stopping_) ::usleep(static_cast<useconds_t>(rescan_ms) * 1000);
      continue;
    }
    if (stopping_ || (fds[0].revents & POLLIN) != 0) break;
    if (fd >= 0 && fds[1].revents != 0) {
      ::close(fd);
      fd = -1;
      publish(ProcessState::kExited, watched);
    } else if (fd == -2 && !(::kill(watched, 0) == 0 || errno == EPERM)) {
      fd = -1;
      publish(ProcessState::kExited, watched);
    }
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace noa::agent
