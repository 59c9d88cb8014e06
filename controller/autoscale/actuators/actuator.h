#pragma once

// Where replica counts are changed: one actuator per service, chosen by the policy's
// `actuator.type`. Calls block (a subprocess or an HTTP request with the configured timeout);
// the coordinator calls them from the reconcile thread only, so implementations need not be
// thread-safe.
//
//   none        records only; the count is whatever the registry sees
//   exec        runs `COMMAND... SERVICE N`
//   compose     runs `docker compose -p PROJECT [-f F]... up -d --no-recreate --scale SVC=N`
//   kubernetes  PATCHes / GETs the `scale` subresource of a Deployment or StatefulSet
//   local       starts / stops replicas of a command as local processes, each with its agent

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "controller/autoscale/autoscale_policy.h"

namespace noa::controller::autoscale {

class Actuator {
 public:
  virtual ~Actuator() = default;
  virtual ActuatorType type() const = 0;
  // Unimplemented when the actuator cannot tell (none, exec): the coordinator then uses the
  // last count it set, or the replicas the registry sees.
  virtual Result<int32_t> currentReplicas(const std::string& service) = 0;
  // Ok once the target accepted the count (replicas may still be starting).
  virtual Status setReplicas(const std::string& service, int32_t replicas) = 0;
};

using ActuatorPtr = std::unique_ptr<Actuator>;

// InvalidArgument for a config the actuator cannot work with (e.g. kubernetes without any
// credentials source).
Result<ActuatorPtr> makeActuator(const ActuatorConfig& config);

}  // namespace noa::controller::autoscale
