#pragma once

// How an agent stops its own primary from accepting writes, and lets it accept them again.
// The agent's lease guard (agent/runtime/lease_guard.h) fences when its service is primary and
// it holds no valid leader lease; the controller fences through the `fence` action before it
// promotes another member. Implementations (agent/replication/):
//   PostgreSQL  fence = fast shutdown of the postmaster (pg_ctl stop -m fast, as the data dir's
//               owner); unfence = start it again with the command line it last ran with
//               (<data_dir>/postmaster.opts), so port, socket dir and -c settings are kept.
//   Redis       fence = CLIENT PAUSE <long> WRITE (reads still served); unfence = CLIENT UNPAUSE.
//
// Both calls are idempotent and safe to repeat: fence() is Ok when the service accepts no
// writes afterwards (also when it was not running at all); unfence() is Ok when it accepts
// writes again (or, for a server that is a replica, when it is running). Neither throws.
// Called from one thread at a time.

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::agent::replication {

class ServiceFence {
 public:
  virtual ~ServiceFence() = default;
  virtual Status fence() = 0;
  virtual Status unfence() = 0;
  // "pg_stop" | "redis_pause" (reported in the agent's `fenced_by` attribute and metrics).
  virtual std::string_view method() const = 0;
};

}  // namespace noa::agent::replication
