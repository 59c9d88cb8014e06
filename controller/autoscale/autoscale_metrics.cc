#include "controller/autoscale/autoscale_metrics.h"

namespace noa::controller::autoscale {

AutoscaleMetrics::AutoscaleMetrics(prometheus::Registry& registry)
    : desired_(prometheus::BuildGauge()
                   .Name("noa_autoscale_desired_replicas")
                   .Help("Replicas the autoscaler's last evaluation settled on, by service")
                   .Register(registry)),
      current_(prometheus::BuildGauge()
                   .Name("noa_autoscale_current_replicas")
                   .Help("Replicas the actuator (or the registry) reported, by service")
                   .Register(registry)),
      decisions_(prometheus::BuildCounter()
                     .Name("noa_autoscale_decisions_total")
                     .Help("Autoscale evaluations, by service and action")
                     .Register(registry)),
      failures_(prometheus::BuildCounter()
                    .Name("noa_autoscale_actuator_failures_total")
                    .Help("Failed attempts to set a service's replica count")
                    .Register(registry)),
      able_(prometheus::BuildGauge()
                .Name("noa_autoscale_able_to_scale")
                .Help("1 when the last evaluation's AbleToScale condition was True, else 0")
                .Register(registry)) {}

void AutoscaleMetrics::setDesired(const std::string& service, int32_t replicas) {
  desired_.Add({{"service", service}}).Set(replicas);
}

void AutoscaleMetrics::setCurrent(const std::string& service, int32_t replicas) {
  current_.Add({{"service", service}}).Set(replicas);
}

void AutoscaleMetrics::countDecision(const std::string& service, const std::string& action) {
  decisions_.Add({{"service", service}, {"action", action}}).Increment();
}

void AutoscaleMetrics::countActuatorFailure(const std::string& service) {
  failures_.Add({{"service", service}}).Increment();
}

void AutoscaleMetrics::setAbleToScale(const std::string& service, bool able) {
  able_.Add({{"service", service}}).Set(able ? 1 : 0);
}

double AutoscaleMetrics::desiredForTest(const std::string& service) {
  return desired_.Add({{"service", service}}).Value();
}

double AutoscaleMetrics::decisionsForTest(const std::string& service, const std::string& action) {
  return decisions_.Add({{"service", service}, {"action", action}}).Value();
}

double AutoscaleMetrics::ableToScaleForTest(const std::string& service) {
  return able_.Add({{"service", service}}).Value();
}

}  // namespace noa::controller::autoscale
