#include "controller/runtime/controller_state.h"

#include <prometheus/text_serializer.h>

namespace noa::controller {

ControllerInfo ControllerState::info() const {
  ControllerInfo info = info_;
  info.store_health = store_.health();
  return info;
}

std::string ControllerState::metricsText() const {
  return prometheus::TextSerializer().Serialize(metrics_.Collect());
}

}  // namespace noa::controller
