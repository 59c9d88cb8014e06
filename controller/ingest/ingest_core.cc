#include "controller/ingest/ingest_core.h"

#include "common/log.h"
#include "common/transport/curve_keys.h"

namespace noa::controller {

IngestCore::IngestCore(Registry& registry, Clock& clock, ControllerMetrics& metrics,
                       IngestOptions options, KeyRegistry* keys, commands::CommandBook* commands)
    : registry_(registry),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      keys_(keys),
      commands_(commands) {}

const KeyBinding* IngestCore::resolveKey(const std::string& key_id) {
  const uint64_t generation = keys_->generation();
  if (generation != key_cache_generation_) {
    key_cache_.clear();
    key_cache_generation_ = generation;
  }
  auto it = key_cache_.find(key_id);
  if (it == key_cache_.end()) {
    auto binding = keys_->binding(key_id);
    if (!binding) return nullptr;
    it = key_cache_.emplace(key_id, std::move(*binding)).first;
  }
  return &it->second;
}

void IngestCore::keyBye(const std::string& peer, const std::string& key_id,
                        const std::string& reason, std::vector<Reply>& replies) {
  const MonoTime now = clock_.now();
  if (last_key_bye_.size() > 4096) {
    // Bounded: forget byes old enough not to matter any more.
    std::erase_if(last_key_bye_, [&](const auto& e) { return now - e.second >= kKeyByeInterval; });
  }
  auto [it, inserted] = last_key_bye_.try_emplace(key_id, now);
  if (!inserted) {
    if (now - it->second < kKeyByeInterval) return;
    it->second = now;
  }
  replies.push_back({peer, makeEnvelope(protocol::Bye{reason})});
}

bool IngestCore::onUnacceptedKey(const std::string& peer, const std::string& key_id,
                                 const KeyBinding& binding, std::string_view payload,
                                 std::vector<Reply>& replies) {
  if (binding.state != KeyState::kPending) {
    metrics_.countRejected("key_revoked");
    log::debug("message of a refused key dropped",
               {{"peer", peer}, {"key_id", key_id}, {"state", keyStateName(binding.state)}});
    keyBye(peer, key_id, std::string(transport::kByeKeyRevoked), replies);
    return false;
  }
  auto decoded = protocol::decode(payload, options_.limits);
  if (!decoded.ok() || decoded->type() != protocol::MessageType::kHello) {
    metrics_.countRejected("key_pending");
    log::debug("message of a pending key dropped", {{"peer", peer}, {"key_id", key_id}});
    return false;
  }
  const auto& hello = std::get<protocol::Hello>(decoded->body);
  if (hello.agent_id != peer || decoded->from != peer) {
    reject(peer, "identity_mismatch",
           "pending key " + key_id + " says hello as '" + hello.agent_id +
               "' on the connection "
               "of '" +
               peer + "'");
    return false;
  }
  if (keys_->autoAcceptEnabled()) {
    auto accepted = keys_->autoAccept(key_id, hello.agent_id);
    if (accepted.ok()) return true;
    log::warn(
        "auto-accept refused",
        {{"key_id", key_id}, {"agent", hello.agent_id}, {"error", accepted.status().toString()}});
  } else {
    (void)keys_->refreshAllowlist();
    const KeyBinding* now = resolveKey(key_id);
    if (now != nullptr && now->state == KeyState::kAccepted) return true;
  }
  if (Status claimed = keys_->recordClaim(key_id, hello.agent_id, hello.service, hello.host);
      !claimed.ok()) {
    log::warn("cannot record a pending key's claim",
              {{"key_id", key_id}, {"error", claimed.toString()}});
  }
  metrics_.countRejected("key_pending");
  keyBye(peer, key_id, transport::byeAwaitingEnrollment(key_id), replies);
  // Remembered so the agent hears at once when its key is accepted (nudgeEnrolled), instead of
  // after its refusal back-off (5-60 s). Bounded: a flood of unknown keys is not kept.
  if (refused_pending_.size() < kMaxRefusedPendingKept || refused_pending_.count(peer) != 0) {
    refused_pending_[peer] = key_id;
  }
  return false;
}

void IngestCore::nudgeEnrolled(std::vector<Reply>& replies) {
  if (keys_ == nullptr || refused_pending_.empty()) return;
  (void)keys_->refreshAllowlist();  // at most once per allowlist_check_every
  for (auto it = refused_pending_.begin(); it != refused_pending_.end();) {
    const KeyBinding* binding = resolveKey(it->second);
    if (binding != nullptr && binding->state == KeyState::kPending) {
      ++it;
      continue;
    }
    if (binding != nullptr && binding->state == KeyState::kAccepted) {
      log::info("key accepted: asking its agent to say hello",
                {{"agent", it->first}, {"key_id", it->second}});
      replies.push_back({it->first, helloRequiredNudge()});
    }
    it = refused_pending_.erase(it);
  }
}

void IngestCore::applyKeyChanges(std::vector<Reply>& replies) {
  if (keys_ == nullptr) return;
  const uint64_t generation = keys_->generation();
  if (generation == revocations_seen_generation_) return;
  revocations_seen_generation_ = generation;
  for (const KeyRecord& revoked : keys_->takeRevoked()) {
    if (revoked.agent_id.empty()) continue;
    const bool had_session = sessions_.erase(revoked.agent_id) > 0;
    log::warn(
        "agent session closed: its key was revoked",
        {{"agent", revoked.agent_id}, {"key_id", revoked.key_id}, {"had_session", had_session}});
    replies.push_back(
        {revoked.agent_id, makeEnvelope(protocol::Bye{std::string(transport::kByeKeyRevoked)})});
    last_key_bye_[revoked.key_id] = clock_.now();
  }
}

void IngestCore::reject(const std::string& peer, std::string_view reason,
                        const std::string& detail) {
  metrics_.countRejected(reason);
  log::warn("message rejected", {{"peer", peer}, {"reason", reason}, {"detail", detail}});
}

std::string IngestCore::makeEnvelope(protocol::Body body) {
  protocol::Envelope env;
  env.id.reserve(options_.controller_id.size() + 21);
  env.id.append(options_.controller_id).push_back('-');
  env.id.append(std::to_string(next_message_id_++));
  env.ts_ms = toUnixMillis(clock_.wallNow());
  env.from = options_.controller_id;
  env.body = std::move(body);
  return protocol::encode(env);
}

void IngestCore::handle(const std::string& peer, std::string_view payload, size_t extra_frames,
                        const std::string& user_id, Store::Batch& batch,
                        std::vector<Reply>& replies) {
  if (extra_frames > 0) {
    reject(peer, "malformed", "message has " + std::to_string(extra_frames + 1) + " frames");
    return;
  }
  const std::string* bound_agent = nullptr;
  if (keys_ != nullptr) {
    const KeyBinding* binding = user_id.empty() ? nullptr : resolveKey(user_id);
    if (binding == nullptr) {
      // ZAP admitted the connection, so its key was known then; it cannot vanish, but a
      // message without a verdict is never trusted.
      reject(peer, "key_unknown", "no key record for connection key '" + user_id + "'");
      return;
    }
    if (binding->state != KeyState::kAccepted) {
      const KeyBinding copy = *binding;  // the cache may be dropped below
      if (!onUnacceptedKey(peer, user_id, copy, payload, replies)) return;
      binding = resolveKey(user_id);
      if (binding == nullptr || binding->state != KeyState::kAccepted) return;
    }
    bound_agent = &binding->agent_id;
  }
  auto decoded = protocol::decode(payload, options_.limits, &decode_scratch_);
  if (!decoded.ok()) {
    const std::string_view reason = protocol::rejectReason(decoded.status());
    reject(peer, reason, decoded.status().message());
    if (decoded.status().code() == StatusCode::kFailedPrecondition) {
      // Tell the agent why it is refused, so its operator sees it in the agent's log.
      replies.push_back({peer, makeEnvelope(protocol::Bye{decoded.status().message()})});
    }
    return;
  }
  protocol::Envelope& env = decoded.value();  // not const: a report's body moves into the registry
  metrics_.countMessage(env.type(), payload.size());
  if (env.from != peer) {
    reject(peer, "identity_mismatch",
           "message from '" + env.from + "' arrived on the connection of '" + peer + "'");
    return;
  }
  if (bound_agent != nullptr && *bound_agent != peer) {
    reject(peer, "identity_mismatch",
           "key " + user_id + " belongs to agent '" + *bound_agent + "', not '" + peer + "'");
    if (sessions_.erase(peer) > 0) {
      log::warn("agent session ended: another agent's key used its routing id",
                {{"agent", peer}, {"key_id", user_id}, {"key_agent", *bound_agent}});
    }
    return;
  }
  switch (env.type()) {
    case protocol::MessageType::kHello:
      onHello(peer, env, batch, replies);
      return;
    case protocol::MessageType::kReport:
      onReport(peer, env, payload, batch, replies);
      return;
    case protocol::MessageType::kBye:
      onBye(peer, env);
      return;
    case protocol::MessageType::kProgress:
    case protocol::MessageType::kResult:
      onCommandEvent(peer, env, replies);
      return;
    case protocol::MessageType::kWelcome:
    case protocol::MessageType::kAck:
    case protocol::MessageType::kCommand:
      reject(peer, "unexpected_type",
             "agents may not send '" + std::string(protocol::messageTypeName(env.type())) + "'");
      return;
  }
}

std::vector<std::string> IngestCore::agentsWithoutSession() const {
  std::vector<std::string> out;
  for (std::string& id : registry_.ids()) {
    if (sessions_.count(id) == 0) out.push_back(std::move(id));
  }
  return out;
}

std::string IngestCore::helloRequiredNudge() {
  return makeEnvelope(
      protocol::Ack{"", 0, "hello_required", "the controller restarted: say hello"});
}

void IngestCore::markSeen(AgentRecord& record) {
  const int64_t now_ms = toUnixMillis(clock_.wallNow());
  record.last_seen_ms = now_ms;
  if (record.liveness != Liveness::kAlive) {
    log::info("agent state changed", {{"agent", record.hello.agent_id},
                                      {"from", livenessName(record.liveness)},
                                      {"to", "alive"}});
    metrics_.countTransition("alive");
    record.liveness = Liveness::kAlive;
    record.liveness_changed_ms = now_ms;
  }
}

void IngestCore::onHello(const std::string& peer, const protocol::Envelope& env,
                         Store::Batch& batch, std::vector<Reply>& replies) {
  const auto& hello = std::get<protocol::Hello>(env.body);
  if (hello.agent_id != peer) {
    reject(peer, "identity_mismatch",
           "hello names agent '" + hello.agent_id + "' on the connection of '" + peer + "'");
    return;
  }
  const int64_t now_ms = toUnixMillis(clock_.wallNow());
  auto existing = registry_.get(peer);
  AgentRecord record = existing.value_or(AgentRecord{});
  if (!existing) {
    record.registered_at_ms = now_ms;
    record.liveness_changed_ms = now_ms;
  }
  record.hello = hello;
  record.session_started_ms = now_ms;
  record.last_seq = 0;  // a new session (often a new agent process) starts its seq again
  markSeen(record);
  registry_.put(record, clock_.now());
  dirty_.insert(peer);
  sessions_.insert(peer);
  if (commands_ != nullptr) commands_->agentConnected(peer);
  log::info(existing ? "agent registered again" : "agent registered",
            {{"agent", peer},
             {"service", hello.service},
             {"kind", hello.kind},
             {"host", hello.host},
             {"agent_version", hello.agent_version}});
  protocol::Welcome welcome;
  welcome.agent_id = peer;
  welcome.controller_id = options_.controller_id;
  welcome.report_interval_ms = static_cast<uint32_t>(options_.liveness.report_interval.count());
  welcome.server_time_ms = now_ms;
  replies.push_back({peer, makeEnvelope(std::move(welcome))});
  (void)batch;  // the record is written by flushDirty with the rest of this batch
}

void IngestCore::onReport(const std::string& peer, protocol::Envelope& env,
                          std::string_view payload, Store::Batch& batch,
                          std::vector<Reply>& replies) {
  auto& report = std::get<protocol::Report>(env.body);
  const uint64_t seq = report.seq;
  bool stale = false;
  uint64_t stored_seq = 0;
  int64_t seen_ms = 0;
  bool came_back = false;
  std::string service;
  // In place: the record (and its previous report) is not copied, the new report is moved in.
  const bool known =
      sessions_.count(peer) != 0 && registry_.update(peer, clock_.now(), [&](AgentRecord& record) {
        if (seq <= record.last_seq) {
          stale = true;
          stored_seq = record.last_seq;
          return false;
        }
        decode_scratch_.metrics = std::move(record.last_report.metrics);
        record.last_report = std::move(report);
        record.has_report = true;
        record.last_seq = seq;
        record.last_report_ts_ms = env.ts_ms;
        came_back = record.liveness != Liveness::kAlive;
        markSeen(record);
        seen_ms = record.last_seen_ms;
        service = record.hello.service;
        return true;
      });
  if (!known || stale) decode_scratch_.metrics = std::move(report.metrics);
  if (!known) {
    metrics_.countRejected("no_session");
    log::debug("report before hello", {{"peer", peer}});
    replies.push_back(
        {peer, makeEnvelope(protocol::Ack{env.id, 0, "hello_required", "say hello first"})});
    return;
  }
  if (stale) {
    // A duplicate or a report overtaken by a newer one: the newest state is already stored.
    metrics_.countRejected("stale");
    replies.push_back({peer, makeEnvelope(protocol::Ack{env.id, stored_seq, "", ""})});
    return;
  }
  // History is keyed by the controller's clock so retention and queries do not depend on
  // every agent's clock being right; the agent's own ts stays inside the stored envelope.
  batch.appendHistory(peer, seen_ms, seq, payload);
  if (came_back || options_.record_checkpoint_every.count() <= 0) {
    dirty_.insert(peer);
  } else if (report_only_.insert(peer).second) {
    report_only_queue_.emplace_back(clock_.now(), peer);
  }
  protocol::Ack ack{env.id, seq, "", ""};
  if (leases_ != nullptr) {
    // Counted from this receipt, which is later than the agent's send: its lease ends first.
    if (auto grant = leases_->renew(service, peer, clock_.now())) {
      ack.lease_ms = grant->lease_ms;
      ack.leader_epoch = grant->epoch;
    }
  }
  replies.push_back({peer, makeEnvelope(std::move(ack)), env.id});
}

std::string IngestCore::ackError(const std::string& ref, const std::string& error,
                                 const std::string& detail) {
  return makeEnvelope(protocol::Ack{ref, 0, error, detail});
}

void IngestCore::onBye(const std::string& peer, const protocol::Envelope& env) {
  const auto& bye = std::get<protocol::Bye>(env.body);
  sessions_.erase(peer);
  log::info("agent said bye", {{"agent", peer}, {"reason", bye.reason}});
}

void IngestCore::flushDirty(Store::Batch& batch, bool everything) {
  const MonoTime now = clock_.now();
  while (!report_only_queue_.empty() && (everything || now - report_only_queue_.front().first >=
                                                           options_.record_checkpoint_every)) {
    std::string id = std::move(report_only_queue_.front().second);
    report_only_queue_.pop_front();
    report_only_.erase(id);
    dirty_.insert(std::move(id));
  }
  for (const auto& id : dirty_) {
    registry_.read(id, [&](const AgentRecord& record) { batch.putAgent(record); });
  }
  dirty_.clear();
}

void IngestCore::sweepLiveness(Store::Batch& batch) {
  std::vector<AgentRecord> changed;
  const auto changes =
      registry_.sweep(clock_.now(), toUnixMillis(clock_.wallNow()), options_.liveness, &changed);
  for (const auto& change : changes) {
    const log::Fields fields = {{"agent", change.agent_id},
                                {"from", livenessName(change.from)},
                                {"to", livenessName(change.to)},
                                {"silent_ms", change.silent_ms}};
    if (change.to == Liveness::kLost) {
      log::warn("agent state changed", fields);
      sessions_.erase(change.agent_id);  // it must say hello again when it returns
    } else {
      log::info("agent state changed", fields);
    }
    metrics_.countTransition(livenessName(change.to));
  }
  for (const auto& record : changed) batch.putAgent(record);
  const auto counts = registry_.counts();
  metrics_.setAgents(counts.alive, counts.suspect, counts.lost);
}

}  // namespace noa::controller
