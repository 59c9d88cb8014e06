#pragma once

// What the agent still has to send to the controller. Reports are state, not events: only the
// newest unsent one is kept (a stale report has no value and must never arrive after a newer
// one). Command results and progress are events: kept in order in a bounded queue and sent
// first. Not thread-safe: owned by the session thread.

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::agent {

class Outbox {
 public:
  explicit Outbox(size_t max_events = 256) : max_events_(max_events) {}

  // Replaces any unsent report.
  void offerReport(std::string encoded);
  // Queues an event; returns ResourceExhausted (and drops it) when the queue is full.
  Status pushEvent(std::string encoded);

  // Sends events in order, then the report, until `send` fails; what failed stays queued.
  // Returns how many messages were sent.
  size_t flush(const std::function<Status(std::string_view)>& send);

  bool hasReport() const { return report_.has_value(); }
  size_t pendingEvents() const { return events_.size(); }
  uint64_t replacedReports() const { return replaced_reports_; }

 private:
  const size_t max_events_;
  std::optional<std::string> report_;
  std::deque<std::string> events_;
  uint64_t replaced_reports_ = 0;
};

}  // namespace noa::agent
