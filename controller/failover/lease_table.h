#pragma once

// The leader leases, in memory, shared by the ingest thread (which renews the holder's lease on
// each of its reports and tells the agent in the ack) and the failover coordinator (which names
// the holder, stops renewing when a failover starts, and asks whether a lease has surely run
// out).
//
// Safety argument: the agent counts its lease from when it SENT the acked report; the controller
// counts from when it RECEIVED that report, which is later. So the agent's lease always ends
// first, and the controller additionally waits `margin` (clock rate drift, the fence itself)
// before it treats a lease as over. A restarted controller knows no receipt times: it counts
// every lease from its own start (startGrace), so a blip of the control plane alone never
// looks like an expired lease.
//
// Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"

namespace noa::controller::failover {

struct LeaseGrant {
  uint32_t lease_ms = 0;
  uint64_t epoch = 0;
};

class LeaseTable {
 public:
  // `agent` holds the lease of `service` in `epoch`; renewals are granted while `granting`.
  // The lease counts as held until at least `held_until` (a new holder's promotion, or a
  // controller's start: see startGrace).
  void setHolder(const std::string& service, const std::string& agent, uint64_t epoch,
                 std::chrono::milliseconds lease, bool granting, MonoTime held_until);
  // Stops renewing (a failover started); the lease runs out on its own.
  void stopGranting(const std::string& service);
  void forget(const std::string& service);

  // Called by the ingest thread on each stored report: a grant when `agent` holds the lease of
  // `service` and renewals are on; the lease then runs until now + lease.
  std::optional<LeaseGrant> renew(const std::string& service, const std::string& agent,
                                  MonoTime now);

  // True when the holder's lease has surely run out at `now` (its end + margin has passed).
  // A service without a holder has no lease to wait for.
  bool surelyExpired(const std::string& service, MonoTime now, std::chrono::milliseconds margin) const;
  // The lease's end as the controller counts it (nullopt without a holder).
  std::optional<MonoTime> leaseEnd(const std::string& service) const;
  std::optional<std::string> holder(const std::string& service) const;
  bool granting(const std::string& service) const;
  // Renewals granted to the current holder since it became the holder.
  uint64_t renewals(const std::string& service) const;

 private:
  struct Lease {
    std::string agent;
    uint64_t epoch = 0;
    std::chrono::milliseconds duration{0};
    bool granting = false;
    MonoTime ends{};
    uint64_t renewals = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Lease> leases_;
};

}  // namespace noa::controller::failover
