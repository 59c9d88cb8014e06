#include "controller/runtime/controller_state.h"

#include <prometheus/text_serializer.h>

#include "controller/registry/service_view.h"

namespace noa::controller {

ControllerInfo ControllerState::info() const {
  ControllerInfo info = info_;
  info.store_health = store_.health();
  return info;
}

std::string ControllerState::metricsText() const {
  std::lock_guard<std::mutex> lock(scrape_mu_);
  service_metrics_.update(summarizeServices(registry_.snapshot()));
  return prometheus::TextSerializer().Serialize(metrics_.Collect());
}

}  // namespace noa::controller
