#include "controller/security/key_registry.h"

#include <map>
#include <unordered_map>

#include "common/log.h"
#include "common/transport/curve_keys.h"

namespace noa::controller {

KeyRegistry::KeyRegistry(Store& store, Clock& clock, KeyRegistryOptions options,
                         KeyMetrics* metrics)
    : store_(store),
      clock_(clock),
      options_(std::move(options)),
      metrics_(metrics),
      new_pending_(options_.new_pending_per_second, options_.new_pending_burst, clock.now()) {
  if (!options_.allowlist_file.empty()) allowlist_.emplace(options_.allowlist_file);
}

Result<std::unique_ptr<KeyRegistry>> KeyRegistry::open(Store& store, Clock& clock,
                                                       KeyRegistryOptions options,
                                                       KeyMetrics* metrics) {
  std::unique_ptr<KeyRegistry> registry(new KeyRegistry(store, clock, std::move(options), metrics));
  NOA_ASSIGN_OR_RETURN(std::vector<KeyRecord> records, store.loadKeys());
  std::lock_guard lock(registry->mu_);
  for (auto& record : records) {
    if (record.state == KeyState::kPending) ++registry->pending_;
    registry->keys_.emplace(record.key_id, std::move(record));
  }
  if (registry->allowlist_) NOA_RETURN_IF_ERROR(registry->refreshAllowlistLocked(true));
  if (metrics != nullptr) metrics->setAutoAccept(registry->options_.auto_accept);
  registry->updateGauges();
  return registry;
}

void KeyRegistry::updateGauges() {
  if (metrics_ == nullptr) return;
  size_t counts[4] = {0, 0, 0, 0};
  for (const auto& [id, record] : keys_) ++counts[static_cast<size_t>(record.state)];
  for (KeyState s :
       {KeyState::kPending, KeyState::kAccepted, KeyState::kRejected, KeyState::kRevoked}) {
    metrics_->setKeys(s, counts[static_cast<size_t>(s)]);
  }
}

Status KeyRegistry::persist(const KeyRecord& record) { return persistAll({record}); }

Status KeyRegistry::persistAll(const std::vector<KeyRecord>& records) {
  if (records.empty()) return Status::Ok();
  Store::Batch batch;
  for (const KeyRecord& record : records) batch.putKey(record);
  // Synced: an acceptance or revocation must survive a crash of the controller's host.
  NOA_RETURN_IF_ERROR(store_.commit(batch, true));
  for (const KeyRecord& record : records) keys_.insert_or_assign(record.key_id, record);
  pending_ = 0;
  for (const auto& [id, r] : keys_) pending_ += r.state == KeyState::kPending ? 1 : 0;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  updateGauges();
  return Status::Ok();
}

const KeyRecord* KeyRegistry::acceptedFor(const std::string& agent_id) const {
  for (const auto& [id, record] : keys_) {
    if (record.state == KeyState::kAccepted && record.agent_id == agent_id) return &record;
  }
  return nullptr;
}

transport::ZapDecision KeyRegistry::authenticate(const transport::ZapRequest& request) {
  auto key_id = transport::keyIdOf(request.public_key);
  auto count = [this](std::string_view result) {
    if (metrics_ != nullptr) metrics_->countZap(result);
  };
  if (!key_id.ok()) {
    count("error");
    return {false, "", "bad key"};
  }
  std::lock_guard lock(mu_);
  auto it = keys_.find(*key_id);
  if (it == keys_.end() || it->second.state == KeyState::kPending) {
    // An operator may have just added it to the allowlist.
    (void)refreshAllowlistLocked(false);
    it = keys_.find(*key_id);
  }
  const int64_t now_ms = nowMs();
  if (it != keys_.end()) {
    KeyRecord& record = it->second;
    record.last_seen_ms = now_ms;
    record.address = request.address;
    switch (record.state) {
      case KeyState::kAccepted:
        count("accepted");
        return {true, *key_id, "OK"};
      case KeyState::kPending:
        ++record.attempts;
        count("pending");
        return {true, *key_id, "pending enrollment"};
      case KeyState::kRejected:
      case KeyState::kRevoked:
        ++record.attempts;
        count(keyStateName(record.state));
        log::debug("agent key refused", {{"key_id", *key_id},
                                         {"state", keyStateName(record.state)},
                                         {"address", request.address}});
        return {false, "", "key " + std::string(keyStateName(record.state))};
    }
  }
  if (pending_ >= options_.max_pending_keys || !new_pending_.take(clock_.now())) {
    count("over_limit");
    log::warn("unknown agent key refused: too many new pending keys",
              {{"key_id", *key_id},
               {"address", request.address},
               {"pending", pending_},
               {"max_pending_keys", options_.max_pending_keys}});
    return {false, "", "too many pending keys"};
  }
  KeyRecord record;
  record.key_id = *key_id;
  record.public_key = request.public_key;
  record.state = KeyState::kPending;
  record.address = request.address;
  record.source = "connect";
  record.first_seen_ms = record.last_seen_ms = record.changed_at_ms = now_ms;
  record.attempts = 1;
  if (Status written = persist(record); !written.ok()) {
    count("error");
    log::error("cannot record a pending agent key",
               {{"key_id", *key_id}, {"error", written.toString()}});
    return {false, "", "store unavailable"};
  }
  count("new_pending");
  log::warn("unknown agent key is pending enrollment",
            {{"key_id", *key_id},
             {"address", request.address},
             {"accept_with", "noactl keys accept " + *key_id}});
  return {true, *key_id, "pending enrollment"};
}

std::vector<KeyRecord> KeyRegistry::list() const {
  std::lock_guard lock(mu_);
  std::vector<KeyRecord> out;
  out.reserve(keys_.size());
  for (const auto& [id, record] : keys_) out.push_back(record);
  return out;
}

std::optional<KeyRecord> KeyRegistry::get(const std::string& key_id) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

Result<KeyRecord> KeyRegistry::acceptLocked(const std::string& key_id, const std::string& agent_id,
                                            const std::string& actor, const std::string& source) {
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return Status::NotFound("no key '" + key_id + "'");
  KeyRecord record = it->second;
  if (record.state == KeyState::kRevoked) {
    return Status::FailedPrecondition("key " + key_id +
                                      " was revoked; its agent needs a new key pair");
  }
  const std::string id = agent_id.empty() ? record.claimed_agent_id : agent_id;
  if (id.empty()) {
    return Status::FailedPrecondition("key " + key_id +
                                      " has not claimed an agent id yet; give one");
  }
  if (!isValidAgentId(id)) {
    return Status::InvalidArgument("agent id '" + id + "' must match [A-Za-z0-9._-]{1,64}");
  }
  if (record.state == KeyState::kAccepted) {
    if (record.agent_id == id) return record;
    return Status::FailedPrecondition("key " + key_id + " is accepted for agent '" +
                                      record.agent_id + "'; revoke it to bind another id");
  }
  if (const KeyRecord* other = acceptedFor(id)) {
    return Status::FailedPrecondition("agent id '" + id + "' is already bound to key " +
                                      other->key_id + "; revoke that key first");
  }
  record.state = KeyState::kAccepted;
  record.agent_id = id;
  record.source = source;
  record.changed_by = actor;
  record.changed_at_ms = nowMs();
  NOA_RETURN_IF_ERROR(persist(record));
  log::info("agent key accepted",
            {{"key_id", key_id}, {"agent", id}, {"by", actor}, {"source", source}});
  return record;
}

Result<KeyRecord> KeyRegistry::accept(const std::string& key_id, const std::string& agent_id,
                                      const std::string& actor) {
  std::lock_guard lock(mu_);
  return acceptLocked(key_id, agent_id, actor, "api");
}

Result<KeyRecord> KeyRegistry::autoAccept(const std::string& key_id, const std::string& agent_id) {
  std::lock_guard lock(mu_);
  if (!options_.auto_accept) return Status::FailedPrecondition("--auto-accept is off");
  return acceptLocked(key_id, agent_id, "auto-accept", "auto-accept");
}

Result<KeyRecord> KeyRegistry::reject(const std::string& key_id, const std::string& actor) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return Status::NotFound("no key '" + key_id + "'");
  KeyRecord record = it->second;
  if (record.state == KeyState::kRejected) return record;
  if (record.state == KeyState::kAccepted) {
    return Status::FailedPrecondition("key " + key_id + " is accepted; revoke it instead");
  }
  if (record.state == KeyState::kRevoked) {
    return Status::FailedPrecondition("key " + key_id + " is already revoked");
  }
  record.state = KeyState::kRejected;
  record.source = "api";
  record.changed_by = actor;
  record.changed_at_ms = nowMs();
  NOA_RETURN_IF_ERROR(persist(record));
  log::info("agent key rejected", {{"key_id", key_id}, {"by", actor}});
  return record;
}

Result<KeyRecord> KeyRegistry::revoke(const std::string& key_id, const std::string& actor) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return Status::NotFound("no key '" + key_id + "'");
  KeyRecord record = it->second;
  if (record.state == KeyState::kRevoked) return record;
  record.state = KeyState::kRevoked;
  record.source = "api";
  record.changed_by = actor;
  record.changed_at_ms = nowMs();
  NOA_RETURN_IF_ERROR(persist(record));
  revoked_.push_back(record);
  log::warn("agent key revoked", {{"key_id", key_id}, {"agent", record.agent_id}, {"by", actor}});
  return record;
}

std::optional<KeyBinding> KeyRegistry::binding(const std::string& key_id) const {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return std::nullopt;
  return KeyBinding{it->second.state, it->second.agent_id};
}

Status KeyRegistry::recordClaim(const std::string& key_id, const std::string& agent_id,
                                const std::string& service, const std::string& host) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key_id);
  if (it == keys_.end()) return Status::NotFound("no key '" + key_id + "'");
  const KeyRecord& current = it->second;
  if (current.state != KeyState::kPending) return Status::Ok();
  if (current.claimed_agent_id == agent_id && current.claimed_service == service &&
      current.claimed_host == host) {
    return Status::Ok();
  }
  KeyRecord record = current;
  record.claimed_agent_id = agent_id;
  record.claimed_service = service;
  record.claimed_host = host;
  NOA_RETURN_IF_ERROR(persist(record));
  log::info("pending agent key claims an agent id",
            {{"key_id", key_id}, {"agent", agent_id}, {"service", service}, {"host", host}});
  return Status::Ok();
}

std::vector<KeyRecord> KeyRegistry::takeRevoked() {
  std::lock_guard lock(mu_);
  std::vector<KeyRecord> out;
  out.swap(revoked_);
  return out;
}

Status KeyRegistry::refreshAllowlist() {
  std::lock_guard lock(mu_);
  return refreshAllowlistLocked(false);
}

Status KeyRegistry::refreshAllowlistLocked(bool force) {
  if (!allowlist_) return Status::Ok();
  const MonoTime now = clock_.now();
  if (!force && now - allowlist_checked_ < options_.allowlist_check_every) return Status::Ok();
  allowlist_checked_ = now;
  auto changed = allowlist_->readIfChanged();
  if (!changed.ok()) {
    if (!force) {
      log::error("cannot read the allowlist file; keeping the keys it accepted before",
                 {{"error", changed.status().toString()}});
    }
    return changed.status();
  }
  if (!changed->has_value()) return Status::Ok();
  return applyAllowlist(**changed);
}

Status KeyRegistry::applyAllowlist(const std::vector<AllowlistEntry>& entries) {
  const std::string& file = options_.allowlist_file;
  // A fleet's allowlist has thousands of lines: one index of accepted agent ids and one synced
  // commit for the whole file, not a scan and an fsync per line (5,000 lines took 34 s).
  std::unordered_map<std::string, std::string> accepted_key_of_agent;
  for (const auto& [id, record] : keys_) {
    if (record.state == KeyState::kAccepted) accepted_key_of_agent.emplace(record.agent_id, id);
  }
  std::map<std::string, KeyRecord> staged;  // key id -> its accepted record, this file's
  const int64_t now_ms = nowMs();
  for (const auto& entry : entries) {
    const std::string where = file + ":" + std::to_string(entry.line);
    const KeyRecord* existing = nullptr;
    if (auto s = staged.find(entry.key_id); s != staged.end()) {
      existing = &s->second;
    } else if (auto it = keys_.find(entry.key_id); it != keys_.end()) {
      existing = &it->second;
    }
    if (existing != nullptr) {
      if (existing->state == KeyState::kRevoked) {
        log::warn("allowlisted key is revoked; the revocation wins",
                  {{"key_id", entry.key_id}, {"agent", entry.agent_id}, {"line", where}});
        continue;
      }
      if (existing->state == KeyState::kAccepted) {
        if (existing->agent_id != entry.agent_id) {
          log::warn("allowlisted key is accepted for another agent id; keeping that",
                    {{"key_id", entry.key_id},
                     {"agent", existing->agent_id},
                     {"allowlist_agent", entry.agent_id},
                     {"line", where}});
        }
        continue;
      }
    }
    if (auto bound = accepted_key_of_agent.find(entry.agent_id);
        bound != accepted_key_of_agent.end()) {
      log::warn("allowlisted agent id is bound to another key; line ignored",
                {{"agent", entry.agent_id}, {"key_id", bound->second}, {"line", where}});
      continue;
    }
    KeyRecord record = existing != nullptr ? *existing : KeyRecord{};
    if (existing == nullptr) {
      record.key_id = entry.key_id;
      record.public_key = entry.public_key;
      record.first_seen_ms = 0;  // not seen yet, only configured
    }
    record.state = KeyState::kAccepted;
    record.agent_id = entry.agent_id;
    record.source = "allowlist";
    record.changed_by = "allowlist " + where;
    record.changed_at_ms = now_ms;
    accepted_key_of_agent[entry.agent_id] = entry.key_id;
    staged[entry.key_id] = std::move(record);
  }
  std::vector<KeyRecord> records;
  records.reserve(staged.size());
  for (auto& [id, record] : staged) records.push_back(std::move(record));
  NOA_RETURN_IF_ERROR(persistAll(records));
  // Stored first, then said; one line per key for a handful, a summary for a fleet.
  if (records.size() <= 20) {
    for (const KeyRecord& record : records) {
      log::info("agent key accepted from the allowlist",
                {{"key_id", record.key_id},
                 {"agent", record.agent_id},
                 {"line", record.changed_by.substr(std::string("allowlist ").size())}});
    }
  } else if (!records.empty()) {
    log::info("agent keys accepted from the allowlist",
              {{"count", std::to_string(records.size())}, {"file", file}});
  }
  return Status::Ok();
}

}  // namespace noa::controller
