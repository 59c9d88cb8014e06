#pragma once

// The `local` actuator, for the demo and integration tests: each replica is a local process
// (the policy's `command`) plus its own noa-agent (`agent_command`), both in their own process
// group. In both argvs "{index}" (0, 1, ...), "{port}" (base_port + index), "{service}",
// "{replica}" ("<service>-<index>") and "{state_dir}" are replaced. Replica i's pids are kept
// in `<state_dir>/<replica>.pids`, so a restarted controller adopts the replicas it left
// running instead of starting them twice; output goes to `<state_dir>/<replica>.log`.
//
// Scaling up fills the lowest free indexes (a replica whose service process died is stopped
// first, agent included); scaling down stops the highest indexes first: SIGTERM to both
// process groups, SIGKILL after 2 s. The current count is the number of replicas whose service
// process is alive.

#include <sys/types.h>

#include <string>
#include <vector>

#include "controller/autoscale/actuators/actuator.h"

namespace noa::controller::autoscale {

std::vector<std::string> expandReplicaArgv(const std::vector<std::string>& argv,
                                           const ActuatorConfig& config, const std::string& service,
                                           int32_t index);

class LocalActuator final : public Actuator {
 public:
  explicit LocalActuator(ActuatorConfig config) : config_(std::move(config)) {}
  ~LocalActuator() override = default;  // replicas outlive the controller on purpose
  ActuatorType type() const override { return ActuatorType::kLocal; }
  Result<int32_t> currentReplicas(const std::string& service) override;
  Status setReplicas(const std::string& service, int32_t replicas) override;

  // Stops every replica (tests and `noa-demo.sh down`).
  Status stopAll(const std::string& service);

 private:
  std::string pidFile(const std::string& service, int32_t index) const;
  std::vector<pid_t> readPids(const std::string& service, int32_t index) const;
  bool alive(const std::string& service, int32_t index) const;
  Status start(const std::string& service, int32_t index);
  void stop(const std::string& service, int32_t index);

  ActuatorConfig config_;
};

Result<ActuatorPtr> makeLocalActuator(const ActuatorConfig& config);

}  // namespace noa::controller::autoscale
