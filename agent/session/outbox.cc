#include "agent/session/outbox.h"

namespace noa::agent {

void Outbox::offerReport(std::string encoded) {
  if (report_) ++replaced_reports_;
  report_ = std::move(encoded);
}

Status Outbox::pushEvent(std::string encoded) {
  if (events_.size() >= max_events_) {
    return Status::ResourceExhausted("outbox holds " + std::to_string(max_events_) +
                                     " unsent events already");
  }
  events_.push_back(std::move(encoded));
  return Status::Ok();
}

size_t Outbox::flush(const std::function<Status(std::string_view)>& send) {
  size_t sent = 0;
  while (!events_.empty()) {
    if (!send(events_.front()).ok()) return sent;
    events_.pop_front();
    ++sent;
  }
  if (report_) {
    if (!send(*report_).ok()) return sent;
    report_.reset();
    ++sent;
  }
  return sent;
}

}  // namespace noa::agent
