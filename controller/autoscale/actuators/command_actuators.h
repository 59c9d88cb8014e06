#pragma once

// The actuators that run a command (exec, compose) and the one that runs nothing (none). The
// argv builders are separate so tests can check the exact command lines.

#include <string>
#include <vector>

#include "controller/autoscale/actuators/actuator.h"

namespace noa::controller::autoscale {

class NoneActuator final : public Actuator {
 public:
  ActuatorType type() const override { return ActuatorType::kNone; }
  Result<int32_t> currentReplicas(const std::string& service) override;
  Status setReplicas(const std::string& service, int32_t replicas) override;
};

// COMMAND... SERVICE N
std::vector<std::string> execArgv(const ActuatorConfig& config, const std::string& service,
                                  int32_t replicas);

class ExecActuator final : public Actuator {
 public:
  explicit ExecActuator(ActuatorConfig config) : config_(std::move(config)) {}
  ActuatorType type() const override { return ActuatorType::kExec; }
  Result<int32_t> currentReplicas(const std::string& service) override;
  Status setReplicas(const std::string& service, int32_t replicas) override;

 private:
  ActuatorConfig config_;
};

// docker compose -p PROJECT [-f FILE]... up -d --no-recreate --scale SERVICE=N
std::vector<std::string> composeScaleArgv(const ActuatorConfig& config, int32_t replicas);
// docker compose -p PROJECT [-f FILE]... ps --quiet SERVICE (one container id per line)
std::vector<std::string> composePsArgv(const ActuatorConfig& config);

class ComposeActuator final : public Actuator {
 public:
  explicit ComposeActuator(ActuatorConfig config) : config_(std::move(config)) {}
  ActuatorType type() const override { return ActuatorType::kCompose; }
  Result<int32_t> currentReplicas(const std::string& service) override;
  Status setReplicas(const std::string& service, int32_t replicas) override;

 private:
  ActuatorConfig config_;
};

// Runs argv with the timeout; Ok on exit 0, otherwise Unavailable with the exit code and the
// stderr tail (one line), so the decision record says what the tool said.
Result<std::string> runActuatorCommand(const std::vector<std::string>& argv, int64_t timeout_ms);

}  // namespace noa::controller::autoscale
