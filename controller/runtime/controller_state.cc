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
  if (store_gauge_ != nullptr) store_gauge_->setStoreStatus(store_.health());
  if (backup_metrics_ && backups_ != nullptr) backup_metrics_->refresh(*backups_);
  return prometheus::TextSerializer().Serialize(metrics_.Collect());
}

Result<std::vector<AuditRecord>> ControllerState::audit(int64_t since_ms, size_t limit) const {
  if (audit_ == nullptr) return StateView::audit(since_ms, limit);
  return audit_->list(since_ms, limit);
}

}  // namespace noa::controller
