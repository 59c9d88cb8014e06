#include "controller/failover/lease_table.h"

#include <algorithm>

namespace noa::controller::failover {

void LeaseTable::setHolder(const std::string& service, const std::string& agent, uint64_t epoch,
                           std::chrono::milliseconds lease, bool granting, MonoTime held_until) {
  std::lock_guard<std::mutex> lock(mu_);
  Lease& l = leases_[service];
  if (l.agent != agent) {
    l.ends = held_until;
    l.renewals = 0;
  }
  l.ends = std::max(l.ends, held_until);
  l.agent = agent;
  l.epoch = epoch;
  l.duration = lease;
  l.granting = granting;
}

void LeaseTable::stopGranting(const std::string& service) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  if (it != leases_.end()) it->second.granting = false;
}

void LeaseTable::forget(const std::string& service) {
  std::lock_guard<std::mutex> lock(mu_);
  leases_.erase(service);
}

std::optional<LeaseGrant> LeaseTable::renew(const std::string& service, const std::string& agent,
                                            MonoTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  if (it == leases_.end() || it->second.agent != agent || !it->second.granting) return std::nullopt;
  it->second.ends = std::max(it->second.ends, now + it->second.duration);
  ++it->second.renewals;
  return LeaseGrant{static_cast<uint32_t>(it->second.duration.count()), it->second.epoch};
}

bool LeaseTable::surelyExpired(const std::string& service, MonoTime now,
                               std::chrono::milliseconds margin) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  if (it == leases_.end()) return true;
  return now >= it->second.ends + margin;
}

std::optional<MonoTime> LeaseTable::leaseEnd(const std::string& service) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  if (it == leases_.end()) return std::nullopt;
  return it->second.ends;
}

std::optional<std::string> LeaseTable::holder(const std::string& service) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  if (it == leases_.end()) return std::nullopt;
  return it->second.agent;
}

bool LeaseTable::granting(const std::string& service) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  return it != leases_.end() && it->second.granting;
}

}  // namespace noa::controller::failover

namespace noa::controller::failover {

uint64_t LeaseTable::renewals(const std::string& service) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leases_.find(service);
  return it == leases_.end() ? 0 : it->second.renewals;
}

}  // namespace noa::controller::failover
