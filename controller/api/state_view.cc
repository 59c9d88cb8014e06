#include "controller/api/state_view.h"

#include "controller/audit/audit_log.h"

namespace noa::controller {

Result<std::vector<AuditRecord>> StateView::audit(int64_t since_ms, size_t limit) const {
  (void)since_ms;
  (void)limit;
  return Status::Unimplemented("this controller keeps no audit log");
}

}  // namespace noa::controller
