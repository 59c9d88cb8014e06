#include "controller/autoscale/actuators/local_actuator.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/log.h"

namespace noa::controller::autoscale {
namespace {

constexpr int32_t kMaxLocalReplicas = 64;

void replaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
}

// A zombie of a replica we started ourselves would look alive to kill(pid, 0), so our own
// children are reaped here (by pid: other children of the controller are not ours to reap).
bool pidAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
  return kill(pid, 0) == 0 || errno == EPERM;
}

// fork + setsid + exec with output to `log`; the child never returns.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::string& log) {
  if (argv.empty()) return Status::InvalidArgument("empty command");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (out < 0) return Status::IoError("cannot open '" + log + "': " + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) {
    ::close(out);
    return Status::IoError(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec. The controller blocks signals for its signal
    // thread and holds ZeroMQ and store descriptors: none of that may leak into a replica.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    dup2(out, 1);
    dup2(out, 2);
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
      for (int fd = 3; fd < 65536; ++fd) ::close(fd);
    }
    execvp(args[0], args.data());
    _exit(127);
  }
  ::close(out);
  return pid;
}

}  // namespace

std::vector<std::string> expandReplicaArgv(const std::vector<std::string>& argv,
                                           const ActuatorConfig& config, const std::string& service,
                                           int32_t index) {
  std::vector<std::string> out = argv;
  for (std::string& a : out) {
    replaceAll(a, "{index}", std::to_string(index));
    replaceAll(a, "{port}", std::to_string(config.base_port + index));
    replaceAll(a, "{service}", service);
    replaceAll(a, "{replica}", service + "-" + std::to_string(index));
    replaceAll(a, "{state_dir}", config.state_dir);
  }
  return out;
}

std::string LocalActuator::pidFile(const std::string& service, int32_t index) const {
  return config_.state_dir + "/" + service + "-" + std::to_string(index) + ".pids";
}

std::vector<pid_t> LocalActuator::readPids(const std::string& service, int32_t index) const {
  std::vector<pid_t> pids;
  std::ifstream in(pidFile(service, index));
  for (long pid = 0; in >> pid;) pids.push_back(static_cast<pid_t>(pid));
  return pids;
}

bool LocalActuator::alive(const std::string& service, int32_t index) const {
  auto pids = readPids(service, index);
  return !pids.empty() && pidAlive(pids.front());
}

Result<int32_t> LocalActuator::currentReplicas(const std::string& service) {
  int32_t n = 0;
  for (int32_t i = 0; i < kMaxLocalReplicas; ++i) n += alive(service, i) ? 1 : 0;
  return n;
}

Status LocalActuator::start(const std::string& service, int32_t index) {
  const std::string replica = service + "-" + std::to_string(index);
  const std::string log = config_.state_dir + "/" + replica + ".log";
  std::vector<pid_t> pids;
  NOA_ASSIGN_OR_RETURN(pid_t main,
                       spawn(expandReplicaArgv(config_.command, config_, service, index), log));
  pids.push_back(main);
  if (!config_.agent_command.empty()) {
    auto agent = spawn(expandReplicaArgv(config_.agent_command, config_, service, index), log);
    if (!agent.ok()) {
      kill(-main, SIGKILL);
      return agent.status();
    }
    pids.push_back(*agent);
  }
  std::ofstream out(pidFile(service, index), std::ios::trunc);
  for (pid_t p : pids) out << p << "\n";
  out.close();
  if (!out) return Status::IoError("cannot write '" + pidFile(service, index) + "'");
  log::info("local replica started", {{"service", service}, {"replica", replica}, {"pid", main}});
  return Status::Ok();
}

void LocalActuator::stop(const std::string& service, int32_t index) {
  const std::vector<pid_t> pids = readPids(service, index);
  // The agent first, so it does not report the dying service as a failure.
  for (auto it = pids.rbegin(); it != pids.rend(); ++it) {
    if (pidAlive(*it)) kill(-*it, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (pid_t p : pids) {
    while (pidAlive(p) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pidAlive(p)) {
      kill(-p, SIGKILL);
      waitpid(p, nullptr, 0);
    }
  }
  std::error_code ec;
  std::filesystem::remove(pidFile(service, index), ec);
  log::info("local replica stopped", {{"service", service}, {"index", index}});
}

Status LocalActuator::setReplicas(const std::string& service, int32_t replicas) {
  if (replicas > kMaxLocalReplicas) {
    return Status::InvalidArgument("the local actuator runs at most " +
                                   std::to_string(kMaxLocalReplicas) + " replicas");
  }
  std::error_code ec;
  std::filesystem::create_directories(config_.state_dir, ec);
  if (ec) return Status::IoError("cannot create '" + config_.state_dir + "': " + ec.message());
  NOA_ASSIGN_OR_RETURN(int32_t current, currentReplicas(service));
  // Fill the lowest free indexes; a replica whose service died (its port taken, a crash) is
  // cleaned up first, so its agent does not linger beside the new one.
  for (int32_t i = 0; i < kMaxLocalReplicas && current < replicas; ++i) {
    if (alive(service, i)) continue;
    if (!readPids(service, i).empty()) stop(service, i);
    NOA_RETURN_IF_ERROR(start(service, i));
    ++current;
  }
  for (int32_t i = kMaxLocalReplicas - 1; i >= 0 && current > replicas; --i) {
    if (!alive(service, i)) continue;
    stop(service, i);
    --current;
  }
  return Status::Ok();
}

Status LocalActuator::stopAll(const std::string& service) {
  for (int32_t i = kMaxLocalReplicas - 1; i >= 0; --i) {
    if (!readPids(service, i).empty()) stop(service, i);
  }
  return Status::Ok();
}

Result<ActuatorPtr> makeLocalActuator(const ActuatorConfig& config) {
  if (config.command.empty()) return Status::InvalidArgument("local actuator: no command");
  if (config.state_dir.empty()) return Status::InvalidArgument("local actuator: no state_dir");
  return ActuatorPtr(std::make_unique<LocalActuator>(config));
}

}  // namespace noa::controller::autoscale
