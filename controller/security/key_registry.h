#pragma once

// Which agent CURVE keys may use the agent channel, and as which agent id.
//
// States (KeyRecord, controller/store/key_record.h):
//   unknown --connect--> pending --accept--> accepted --revoke--> revoked (final for the key)
//                        pending --reject--> rejected --accept--> accepted
// An unknown key that completes a CURVE handshake is recorded as pending (address, first/last
// seen, attempts) and admitted only so the ingest can read its hello (claimed agent id, service,
// host) and answer "awaits enrollment"; nothing else from it is stored or registered. New
// pending keys are rate-limited (a token bucket) and bounded (max_pending_keys): beyond either,
// the handshake is denied and counted, so a flood of fresh keys cannot grow the list.
// Keys in the allowlist file are accepted (source "allowlist") unless revoked in the store:
// revocation wins, with a warning. With auto_accept (development only) a pending key is
// accepted for the agent id of its first hello unless that id is bound to another key.
//
// Persistence: every state change is written to the store's `keys` family before it takes
// effect or is answered; a store error is returned and nothing changes. attempts/last_seen of
// a pending key are counted in memory and written with its next state change or claim.
//
// Thread-safety: every method is thread-safe (REST threads change states, the ZAP thread calls
// authenticate, the ingest thread reads bindings). The ingest caches bindings and drops its
// cache when generation() moves, so its hot path takes no lock.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/transport/zap_handler.h"
#include "controller/security/allowlist.h"
#include "controller/security/key_metrics.h"
#include "controller/security/token_bucket.h"
#include "controller/store/key_record.h"
#include "controller/store/store.h"

namespace noa::controller {

struct KeyRegistryOptions {
  size_t max_pending_keys = 1000;
  // New pending keys per second and burst; beyond it handshakes of unknown keys are denied.
  double new_pending_per_second = 5;
  double new_pending_burst = 50;
  bool auto_accept = false;
  std::string allowlist_file;  // empty = none
  std::chrono::milliseconds allowlist_check_every{1000};
};

// What the ingest needs to know about a connection's key.
struct KeyBinding {
  KeyState state = KeyState::kPending;
  std::string agent_id;  // bound agent id (accepted/revoked)
};

class KeyRegistry {
 public:
  // Loads the `keys` family and applies the allowlist file. Errors: the store's (an unreadable
  // record is Corruption), the allowlist's (NotFound, InvalidArgument naming FILE:LINE).
  // `metrics` may be null.
  static Result<std::unique_ptr<KeyRegistry>> open(Store& store, Clock& clock,
                                                   KeyRegistryOptions options,
                                                   KeyMetrics* metrics = nullptr);

  // ---- ZAP thread ----
  // The decision for a CURVE handshake: accepted and pending keys are allowed with User-Id =
  // key id; rejected, revoked, over-limit and store errors are denied.
  transport::ZapDecision authenticate(const transport::ZapRequest& request);

  // ---- REST (operator actions; `actor` is recorded as changed_by) ----
  std::vector<KeyRecord> list() const;
  std::optional<KeyRecord> get(const std::string& key_id) const;
  // Binds the key to `agent_id` (empty = the agent id it claimed in its hello). NotFound,
  // FailedPrecondition (nothing claimed and none given; the agent id is bound to another
  // accepted key; the key is revoked; the key is accepted for another agent id),
  // InvalidArgument (bad agent id). Accepting an accepted key for the same agent is a no-op.
  Result<KeyRecord> accept(const std::string& key_id, const std::string& agent_id,
                           const std::string& actor);
  // NotFound; FailedPrecondition for an accepted key (revoke it) or a revoked one.
  Result<KeyRecord> reject(const std::string& key_id, const std::string& actor);
  // Takes effect at once: the ingest closes that agent's session (takeRevoked). NotFound.
  Result<KeyRecord> revoke(const std::string& key_id, const std::string& actor);

  // ---- ingest thread ----
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  std::optional<KeyBinding> binding(const std::string& key_id) const;
  // Records what a pending key's hello claimed (written only when it changed).
  Status recordClaim(const std::string& key_id, const std::string& agent_id,
                     const std::string& service, const std::string& host);
  bool autoAcceptEnabled() const { return options_.auto_accept; }
  // --auto-accept: accepts a pending key for `agent_id` (source "auto-accept").
  Result<KeyRecord> autoAccept(const std::string& key_id, const std::string& agent_id);
  // Keys revoked since the last call (the ingest closes their sessions).
  std::vector<KeyRecord> takeRevoked();
  // Re-reads the allowlist file when it changed, at most once per allowlist_check_every.
  // Errors are logged (the previous entries stay in force) and returned.
  Status refreshAllowlist();

 private:
  KeyRegistry(Store& store, Clock& clock, KeyRegistryOptions options, KeyMetrics* metrics);

  // REQUIRES: mu_ held. Writes `record` to the store, then to memory; bumps generation.
  Status persist(const KeyRecord& record);
  // All in one synced commit, then the in-memory view, counts and gauges once.
  Status persistAll(const std::vector<KeyRecord>& records);
  // REQUIRES: mu_ held.
  Status applyAllowlist(const std::vector<AllowlistEntry>& entries);
  Status refreshAllowlistLocked(bool force);
  // REQUIRES: mu_ held. The accepted key bound to `agent_id`, if any.
  const KeyRecord* acceptedFor(const std::string& agent_id) const;
  Result<KeyRecord> acceptLocked(const std::string& key_id, const std::string& agent_id,
                                 const std::string& actor, const std::string& source);
  void updateGauges();  // REQUIRES: mu_ held
  int64_t nowMs() const { return toUnixMillis(clock_.wallNow()); }

  Store& store_;
  Clock& clock_;
  const KeyRegistryOptions options_;
  KeyMetrics* const metrics_;

  mutable std::mutex mu_;
  std::map<std::string, KeyRecord> keys_;   // GUARDED_BY(mu_), by key id
  size_t pending_ = 0;                      // GUARDED_BY(mu_)
  TokenBucket new_pending_;                 // GUARDED_BY(mu_)
  std::optional<AllowlistFile> allowlist_;  // GUARDED_BY(mu_)
  MonoTime allowlist_checked_{};            // GUARDED_BY(mu_)
  std::vector<KeyRecord> revoked_;          // GUARDED_BY(mu_), until takeRevoked
  std::atomic<uint64_t> generation_{1};
};

}  // namespace noa::controller
