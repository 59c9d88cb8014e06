#include "controller/autoscale/actuators/actuator.h"

#include "controller/autoscale/actuators/command_actuators.h"
#include "controller/autoscale/actuators/kubernetes_actuator.h"
#include "controller/autoscale/actuators/local_actuator.h"

namespace noa::controller::autoscale {

Result<ActuatorPtr> makeActuator(const ActuatorConfig& config) {
  switch (config.type) {
    case ActuatorType::kNone:
      return ActuatorPtr(std::make_unique<NoneActuator>());
    case ActuatorType::kExec:
      if (config.command.empty()) return Status::InvalidArgument("exec actuator: no command");
      return ActuatorPtr(std::make_unique<ExecActuator>(config));
    case ActuatorType::kCompose:
      if (config.project.empty()) return Status::InvalidArgument("compose actuator: no project");
      return ActuatorPtr(std::make_unique<ComposeActuator>(config));
    case ActuatorType::kKubernetes: {
      NOA_ASSIGN_OR_RETURN(KubernetesTarget target, resolveKubernetesTarget(config));
      return ActuatorPtr(
          std::make_unique<KubernetesActuator>(std::move(target), config.timeout_ms));
    }
    case ActuatorType::kLocal:
      return makeLocalActuator(config);
  }
  return Status::InvalidArgument("unknown actuator type");
}

}  // namespace noa::controller::autoscale
