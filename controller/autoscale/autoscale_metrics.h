#pragma once

// The autoscaler's Prometheus metrics, registered once and injected into the coordinator:
//   noa_autoscale_desired_replicas{service}          what the last evaluation settled on
//   noa_autoscale_current_replicas{service}          what the actuator (or registry) reported
//   noa_autoscale_decisions_total{service,action}    evaluations by action (scale_up,
//                                                    scale_down, hold, limited, error)
//   noa_autoscale_actuator_failures_total{service}   failed setReplicas calls
//   noa_autoscale_able_to_scale{service}             the last evaluation's AbleToScale condition:
//                                                    1 True, 0 False (actuator failing or backing
//                                                    off, current scale unknown)

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string>

namespace noa::controller::autoscale {

class AutoscaleMetrics {
 public:
  explicit AutoscaleMetrics(prometheus::Registry& registry);

  void setDesired(const std::string& service, int32_t replicas);
  void setCurrent(const std::string& service, int32_t replicas);
  void countDecision(const std::string& service, const std::string& action);
  void countActuatorFailure(const std::string& service);
  void setAbleToScale(const std::string& service, bool able);

  double desiredForTest(const std::string& service);
  double decisionsForTest(const std::string& service, const std::string& action);
  double ableToScaleForTest(const std::string& service);

 private:
  prometheus::Family<prometheus::Gauge>& desired_;
  prometheus::Family<prometheus::Gauge>& current_;
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Gauge>& able_;
};

}  // namespace noa::controller::autoscale
