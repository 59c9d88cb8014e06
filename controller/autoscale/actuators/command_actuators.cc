#include "controller/autoscale/actuators/command_actuators.h"

#include <algorithm>
#include <sstream>

#include "common/process/process.h"

namespace noa::controller::autoscale {
namespace {

std::string oneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > 300) text = "..." + text.substr(text.size() - 300);
  return text;
}

std::vector<std::string> composeBase(const ActuatorConfig& config) {
  std::vector<std::string> argv = {config.docker, "compose", "-p", config.project};
  for (const std::string& f : config.compose_files) {
    argv.push_back("-f");
    argv.push_back(f);
  }
  return argv;
}

}  // namespace

Result<std::string> runActuatorCommand(const std::vector<std::string>& argv, int64_t timeout_ms) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.timeout = std::chrono::milliseconds(timeout_ms);
  auto result = runProcess(spec);
  if (!result.ok()) return result.status().withContext("actuator command '" + argv.front() + "'");
  if (result->timed_out) {
    return Status::DeadlineExceeded("'" + argv.front() + "' timed out after " +
                                    std::to_string(timeout_ms) + " ms");
  }
  if (result->exit_code != 0) {
    std::string detail = oneLine(result->stderr_tail);
    if (detail.empty()) detail = oneLine(result->stdout_tail);
    return Status::Unavailable("'" + argv.front() + "' exited with " +
                               (result->exit_code < 0
                                    ? "signal " + std::to_string(result->term_signal)
                                    : "code " + std::to_string(result->exit_code)) +
                               (detail.empty() ? "" : ": " + detail));
  }
  return result->stdout_tail;
}

Result<int32_t> NoneActuator::currentReplicas(const std::string&) {
  return Status::Unimplemented("the none actuator does not know replica counts");
}

Status NoneActuator::setReplicas(const std::string&, int32_t) { return Status::Ok(); }

std::vector<std::string> execArgv(const ActuatorConfig& config, const std::string& service,
                                  int32_t replicas) {
  std::vector<std::string> argv = config.command;
  argv.push_back(service);
  argv.push_back(std::to_string(replicas));
  return argv;
}

Result<int32_t> ExecActuator::currentReplicas(const std::string&) {
  return Status::Unimplemented("the exec actuator does not report replica counts");
}

Status ExecActuator::setReplicas(const std::string& service, int32_t replicas) {
  return runActuatorCommand(execArgv(config_, service, replicas), config_.timeout_ms).status();
}

std::vector<std::string> composeScaleArgv(const ActuatorConfig& config, int32_t replicas) {
  std::vector<std::string> argv = composeBase(config);
  for (const char* word : {"up", "-d", "--no-recreate", "--scale"}) argv.emplace_back(word);
  argv.push_back(config.compose_service + "=" + std::to_string(replicas));
  return argv;
}

std::vector<std::string> composePsArgv(const ActuatorConfig& config) {
  std::vector<std::string> argv = composeBase(config);
  for (const char* word : {"ps", "--quiet"}) argv.emplace_back(word);
  argv.push_back(config.compose_service);
  return argv;
}

Result<int32_t> ComposeActuator::currentReplicas(const std::string&) {
  NOA_ASSIGN_OR_RETURN(std::string out,
                       runActuatorCommand(composePsArgv(config_), config_.timeout_ms));
  std::istringstream lines(out);
  int32_t count = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) ++count;
  }
  return count;
}

Status ComposeActuator::setReplicas(const std::string&, int32_t replicas) {
  return runActuatorCommand(composeScaleArgv(config_, replicas), config_.timeout_ms).status();
}

}  // namespace noa::controller::autoscale
