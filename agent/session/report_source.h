#pragma once

#include "common/protocol/messages.h"

namespace noa::agent {

// Fills a report's health, role, metrics and attributes (the session sets seq). Called from the
// session thread; implementations synchronise with their own workers.
class ReportSource {
 public:
  virtual ~ReportSource() = default;
  virtual void fill(protocol::Report& report) = 0;
};

}  // namespace noa::agent
