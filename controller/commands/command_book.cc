#include "controller/commands/command_book.h"

#include <cstdio>
#include <limits>

#include "common/log.h"
#include "common/protocol/codec.h"
#include "common/protocol/command_params.h"

namespace noa::controller::commands {

std::string_view applyOutcomeName(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kApplied:
      return "applied";
    case ApplyOutcome::kUnchanged:
      return "unchanged";
    case ApplyOutcome::kDuplicate:
      return "duplicate";
    case ApplyOutcome::kUnknownCommand:
      return "unknown_command";
    case ApplyOutcome::kWrongAgent:
      return "wrong_agent";
  }
  return "unknown";
}

Result<std::unique_ptr<CommandBook>> CommandBook::open(Store& store, const Clock& clock,
                                                       CommandBookOptions options) {
  std::unique_ptr<CommandBook> book(new CommandBook(store, clock, options));
  NOA_ASSIGN_OR_RETURN(auto rows,
                       store.scan(Family::kCommands, "", std::numeric_limits<size_t>::max()));
  for (const auto& [key, value] : rows) {
    auto record = decodeCommandRecord(value);
    if (!record.ok()) {
      return Status::Corruption("command '" + key + "': " + record.status().message() +
                                "; run `noa-controller repair` or restore the store");
    }
    book->indexLocked(*record);
  }
  // After a restart nothing is known about what reached the agents: send every unfinished
  // command again when its agent is next claimed for (the agents dedupe).
  for (const auto& [agent, ids] : book->open_by_agent_) book->reconnected_.insert(agent);
  if (!rows.empty()) {
    size_t open_count = 0;
    for (const auto& [agent, ids] : book->open_by_agent_) open_count += ids.size();
    log::info("commands loaded", {{"commands", rows.size()}, {"unfinished", open_count}});
  }
  return book;
}

void CommandBook::indexLocked(const CommandRecord& record) {
  commands_[record.id] = record;
  if (isTerminal(record.state)) {
    auto it = open_by_agent_.find(record.agent_id);
    if (it != open_by_agent_.end()) {
      it->second.erase(record.id);
      if (it->second.empty()) open_by_agent_.erase(it);
    }
  } else {
    open_by_agent_[record.agent_id].insert(record.id);
  }
}

Status CommandBook::storeLocked(const std::vector<CommandRecord>& records, bool sync) {
  if (records.empty()) return Status::Ok();
  Store::Batch batch;
  for (const auto& r : records) batch.put(Family::kCommands, r.id, encodeCommandRecord(r));
  NOA_RETURN_IF_ERROR(store_.commit(batch, sync));
  for (const auto& r : records) indexLocked(r);
  changed_.notify_all();
  return Status::Ok();
}

std::string CommandBook::newIdLocked(int64_t now_ms) {
  // 13 digits of unix ms keep lexical order = time order until the year 2286.
  for (;;) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "cmd-%013lld-%06x", static_cast<long long>(now_ms),
                  static_cast<unsigned>(id_counter_++ & 0xffffff));
    if (commands_.count(buf) == 0) return buf;
  }
}

Result<protocol::Command> CommandBook::toWire(const CommandRecord& record, bool cancel) {
  protocol::Command cmd;
  cmd.command_id = record.id;
  cmd.action = record.action;
  cmd.deadline_ms = record.deadline_ms;
  cmd.cancel = cancel;
  NOA_RETURN_IF_ERROR(protocol::setCommandParams(record.params, cmd));
  return cmd;
}

Result<CommandRecord> CommandBook::prepare(const NewCommand& request, int64_t now) const {
  if (request.target.agent_id.empty()) return Status::InvalidArgument("command without a target");
  if (request.action.empty() || request.action.size() > options_.max_action_bytes) {
    return Status::InvalidArgument("action: must be 1.." +
                                   std::to_string(options_.max_action_bytes) + " bytes");
  }
  if (!request.params.is_object()) return Status::InvalidArgument("params: expected an object");
  if (request.deadline_ms != 0 && request.deadline_ms <= now) {
    return Status::InvalidArgument("deadline_ms: already passed");
  }
  CommandRecord record;
  record.agent_id = request.target.agent_id;
  record.service = request.target.service;
  record.role = request.target.role;
  record.action = request.action;
  record.params = request.params;
  record.deadline_ms = request.deadline_ms;
  record.created_ms = now;
  record.created_by = request.created_by;
  record.origin = request.origin;
  std::string detail = "created by " + request.created_by;
  if (!request.reason.empty()) detail += ": " + request.reason.substr(0, 2048);
  record.history.push_back({CommandState::kPending, now, std::move(detail)});
  // Refuse here what could never be sent, rather than at delivery time.
  NOA_ASSIGN_OR_RETURN(protocol::Command wire, toWire(record, false));
  if (wire.params_json.size() > options_.max_params_json_bytes) {
    return Status::InvalidArgument("params: " + std::to_string(wire.params_json.size()) +
                                   " bytes of lists/objects exceed the limit of " +
                                   std::to_string(options_.max_params_json_bytes));
  }
  return record;
}

Result<CommandRecord> CommandBook::create(const NewCommand& request) {
  NOA_ASSIGN_OR_RETURN(std::vector<CommandRecord> created, createMany({request}));
  return std::move(created.front());
}

Result<std::vector<CommandRecord>> CommandBook::createMany(
    const std::vector<NewCommand>& requests) {
  if (requests.empty()) return Status::InvalidArgument("no command to create");
  const int64_t now = nowMs();
  std::vector<CommandRecord> records;
  records.reserve(requests.size());
  for (const NewCommand& request : requests) {
    NOA_ASSIGN_OR_RETURN(CommandRecord record, prepare(request, now));
    records.push_back(std::move(record));
  }
  {
    std::lock_guard lock(mu_);
    // Ids of one batch differ by the counter newIdLocked() advances on every call.
    for (CommandRecord& record : records) record.id = newIdLocked(now);
    // One synced commit for all: a fan-out to a thousand agents costs one fsync, not a
    // thousand, and either every command exists afterwards or none does.
    NOA_RETURN_IF_ERROR(storeLocked(records, /*sync=*/true));
    stats_.created += records.size();
  }
  for (const CommandRecord& record : records) {
    log::info("command created", {{"command", record.id},
                                  {"agent", record.agent_id},
                                  {"action", record.action},
                                  {"by", record.created_by}});
  }
  wake();
  return records;
}

Result<CommandRecord> CommandBook::cancel(const std::string& id, const std::string& by) {
  CommandRecord out;
  {
    std::lock_guard lock(mu_);
    auto it = commands_.find(id);
    if (it == commands_.end()) return Status::NotFound("no command '" + id + "'");
    Transition t = applyCommandEvent(it->second, {CommandEventKind::kCancel, nowMs(), by, {}, {}});
    if (t.outcome == TransitionOutcome::kRefused) return Status::FailedPrecondition(t.reason);
    if (t.outcome == TransitionOutcome::kApplied) {
      NOA_RETURN_IF_ERROR(storeLocked({t.record}, /*sync=*/true));
    }
    out = t.record;
  }
  log::info("command cancel requested",
            {{"command", id}, {"by", by}, {"state", commandStateName(out.state)}});
  wake();
  return out;
}

std::optional<CommandRecord> CommandBook::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = commands_.find(id);
  if (it == commands_.end()) return std::nullopt;
  return it->second;
}

std::vector<CommandRecord> CommandBook::list(const CommandFilter& filter) const {
  std::vector<CommandRecord> out;
  std::lock_guard lock(mu_);
  for (auto it = commands_.rbegin(); it != commands_.rend() && out.size() < filter.limit; ++it) {
    const CommandRecord& r = it->second;
    if (filter.state && r.state != *filter.state) continue;
    if (!filter.agent_id.empty() && r.agent_id != filter.agent_id) continue;
    if (!filter.service.empty() && r.service != filter.service) continue;
    out.push_back(r);
  }
  return out;
}

std::optional<CommandRecord> CommandBook::waitUntilFinished(
    const std::string& id, Millis timeout, const std::atomic<bool>* abandon) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  auto it = commands_.find(id);
  // The predicate runs under mu_, so a change committed between two checks cannot be missed.
  changed_.wait_until(lock, until, [&] {
    it = commands_.find(id);
    return it == commands_.end() || isTerminal(it->second.state) ||
           (abandon != nullptr && abandon->load());
  });
  if (it == commands_.end()) return std::nullopt;
  return it->second;
}

void CommandBook::wakeWaiters() const {
  // Taking the lock orders this after a waiter's last check of its flag: no lost wake-up.
  std::lock_guard lock(mu_);
  changed_.notify_all();
}

void CommandBook::agentConnected(const std::string& agent_id) {
  std::lock_guard lock(mu_);
  if (open_by_agent_.count(agent_id) != 0) reconnected_.insert(agent_id);
}

bool CommandBook::dueLocked(const CommandRecord& r, int64_t now, bool reconnected,
                            bool& cancel) const {
  const int64_t resend = options_.resend_interval.count();
  cancel = false;
  if (isTerminal(r.state)) return false;
  if (r.cancel_requested) {
    cancel = true;
    return reconnected || r.cancel_sent_ms == 0 || now - r.cancel_sent_ms >= resend;
  }
  if (r.deadline_ms != 0 && now >= r.deadline_ms) return false;  // expire() ends it
  switch (r.state) {
    case CommandState::kPending:
      return true;
    case CommandState::kSent:
      return reconnected || now - r.last_sent_ms >= resend;
    default:
      return reconnected;  // acked/running: the agent has it; only a new session resends
  }
}

std::vector<std::string> CommandBook::agentsWithDeliveries() const {
  std::vector<std::string> out;
  std::lock_guard lock(mu_);
  const int64_t now = nowMs();
  for (const auto& [agent, ids] : open_by_agent_) {
    const bool reconnected = reconnected_.count(agent) != 0;
    for (const auto& id : ids) {
      bool cancel = false;
      if (dueLocked(commands_.at(id), now, reconnected, cancel)) {
        out.push_back(agent);
        break;
      }
    }
  }
  return out;
}

Result<std::vector<protocol::Command>> CommandBook::claimDeliveries(const std::string& agent_id) {
  std::vector<protocol::Command> messages;
  std::lock_guard lock(mu_);
  auto open = open_by_agent_.find(agent_id);
  if (open == open_by_agent_.end()) {
    reconnected_.erase(agent_id);
    return messages;
  }
  const int64_t now = nowMs();
  const bool reconnected = reconnected_.count(agent_id) != 0;
  std::vector<CommandRecord> changed;
  uint64_t first_sends = 0;
  uint64_t resends = 0;
  uint64_t cancels = 0;
  for (const auto& id : open->second) {
    const CommandRecord& r = commands_.at(id);
    bool cancel = false;
    if (!dueLocked(r, now, reconnected, cancel)) continue;
    const CommandEventKind kind = cancel ? CommandEventKind::kSendCancel : CommandEventKind::kSend;
    Transition t = applyCommandEvent(r, {kind, now, "", {}, {}});
    if (t.outcome != TransitionOutcome::kApplied) continue;
    auto wire = toWire(t.record, cancel);
    if (!wire.ok()) {
      // Validated at create(); a record that cannot be encoded any more is logged, not sent.
      log::error("command cannot be encoded",
                 {{"command", id}, {"error", wire.status().toString()}});
      continue;
    }
    if (cancel) {
      cancels++;
    } else if (t.record.attempts == 1) {
      first_sends++;
    } else {
      resends++;
    }
    messages.push_back(std::move(wire).value());
    changed.push_back(std::move(t.record));
  }
  // Written to the WAL before anything is sent, but not fsync'd: "sent" only steers resends, and
  // a "sent" lost with the machine (not with the process: the WAL is in the page cache) means the
  // command goes again, which the agent's dedupe makes harmless.
  NOA_RETURN_IF_ERROR(storeLocked(changed, /*sync=*/false));
  reconnected_.erase(agent_id);
  stats_.sent += first_sends;
  stats_.resent += resends;
  stats_.cancels_sent += cancels;
  return messages;
}

Result<ApplyResult> CommandBook::applyAgentEventLocked(
    const std::string& agent_id, const std::string& command_id, const CommandEvent& event,
    bool& state_changed, const std::map<std::string, CommandRecord>* staged) {
  state_changed = false;
  const CommandRecord* current = nullptr;
  if (staged != nullptr) {
    if (auto s = staged->find(command_id); s != staged->end()) current = &s->second;
  }
  if (current == nullptr) {
    auto it = commands_.find(command_id);
    if (it != commands_.end()) current = &it->second;
  }
  if (current == nullptr) {
    stats_.unknown++;
    return ApplyResult{ApplyOutcome::kUnknownCommand, std::nullopt,
                       "no command '" + command_id + "'"};
  }
  if (current->agent_id != agent_id) {
    stats_.wrong_agent++;
    return ApplyResult{ApplyOutcome::kWrongAgent, std::nullopt,
                       "command '" + command_id + "' was not sent to agent '" + agent_id + "'"};
  }
  Transition t = applyCommandEvent(*current, event);
  switch (t.outcome) {
    case TransitionOutcome::kDuplicate:
      stats_.duplicates++;
      return ApplyResult{ApplyOutcome::kDuplicate, t.record, t.reason};
    case TransitionOutcome::kUnchanged:
    case TransitionOutcome::kRefused:
      return ApplyResult{ApplyOutcome::kUnchanged, t.record, t.reason};
    case TransitionOutcome::kApplied:
      break;
  }
  state_changed = t.record.state != current->state;
  return ApplyResult{ApplyOutcome::kApplied, t.record, ""};
}

Result<ApplyResult> CommandBook::applyProgress(const std::string& agent_id,
                                               const protocol::Progress& msg) {
  CommandEvent event;
  event.ts_ms = nowMs();
  if (msg.state == protocol::kProgressAccepted) {
    event.kind = CommandEventKind::kAccepted;
  } else {
    event.kind = CommandEventKind::kProgress;
    event.progress = {msg.phase, msg.bytes_done, msg.bytes_total_estimate, event.ts_ms};
  }
  std::lock_guard lock(mu_);
  bool state_changed = false;
  NOA_ASSIGN_OR_RETURN(ApplyResult out,
                       applyAgentEventLocked(agent_id, msg.command_id, event, state_changed));
  if (out.outcome == ApplyOutcome::kApplied) {
    // Not fsync'd: acked/running are facts the agent repeats (it re-announces a command it still
    // runs when it is sent again), and nothing the controller does waits on them. What is
    // acknowledged to someone (creation, cancel, results, expiry) is synced.
    NOA_RETURN_IF_ERROR(storeLocked({*out.record}, /*sync=*/false));
  }
  return out;
}

Result<ApplyResult> CommandBook::applyResult(const std::string& agent_id,
                                             const protocol::CommandResult& msg) {
  NOA_ASSIGN_OR_RETURN(std::vector<ApplyResult> applied, applyResults({{agent_id, msg}}));
  return std::move(applied.front());
}

Result<std::vector<ApplyResult>> CommandBook::applyResults(
    const std::vector<AgentResult>& results) {
  std::vector<ApplyResult> out;
  out.reserve(results.size());
  {
    std::lock_guard lock(mu_);
    const CommandBookStats stats_before = stats_;
    const int64_t now = nowMs();
    std::map<std::string, CommandRecord> staged;
    for (const AgentResult& result : results) {
      CommandEvent event;
      event.kind = CommandEventKind::kResult;
      event.ts_ms = now;
      event.result.status = result.msg.status;
      event.result.code = result.msg.code;
      event.result.error_code = result.msg.error_code;
      event.result.error = result.msg.error;
      event.result.output = protocol::resultOutput(result.msg);
      event.result.duration_ms = result.msg.duration_ms;
      bool state_changed = false;
      auto applied = applyAgentEventLocked(result.agent_id, result.msg.command_id, event,
                                           state_changed, &staged);
      if (!applied.ok()) {
        stats_ = stats_before;
        return applied.status();
      }
      if (applied->outcome == ApplyOutcome::kApplied) staged[applied->record->id] = *applied->record;
      out.push_back(std::move(applied).value());
    }
    std::vector<CommandRecord> changed;
    changed.reserve(staged.size());
    for (auto& [id, record] : staged) changed.push_back(std::move(record));
    if (Status stored = storeLocked(changed, /*sync=*/true); !stored.ok()) {
      stats_ = stats_before;  // nothing was applied
      return stored;
    }
  }
  for (size_t i = 0; i < results.size(); ++i) {
    if (out[i].outcome != ApplyOutcome::kApplied) continue;
    log::info("command finished", {{"command", results[i].msg.command_id},
                                   {"agent", results[i].agent_id},
                                   {"state", commandStateName(out[i].record->state)},
                                   {"error_code", results[i].msg.error_code}});
  }
  return out;
}

Result<std::vector<CommandRecord>> CommandBook::expire() {
  std::vector<CommandRecord> changed;
  {
    std::lock_guard lock(mu_);
    const int64_t now = nowMs();
    for (const auto& [agent, ids] : open_by_agent_) {
      for (const auto& id : ids) {
        const CommandRecord& r = commands_.at(id);
        if (r.deadline_ms == 0) continue;
        const int64_t grace = r.state == CommandState::kPending ? 0 : options_.expiry_grace.count();
        if (now < r.deadline_ms + grace) continue;
        Transition t = applyCommandEvent(
            r, {CommandEventKind::kExpire,
                now,
                r.state == CommandState::kPending ? "deadline passed before it could be sent"
                                                  : "deadline passed without a result",
                {},
                {}});
        if (t.outcome == TransitionOutcome::kApplied) changed.push_back(std::move(t.record));
      }
    }
    NOA_RETURN_IF_ERROR(storeLocked(changed, /*sync=*/true));
    stats_.expired += changed.size();
  }
  for (const auto& r : changed) {
    log::warn("command timed out", {{"command", r.id}, {"agent", r.agent_id}});
  }
  return changed;
}

Result<size_t> CommandBook::pruneFinished(int64_t cutoff_ms) {
  std::lock_guard lock(mu_);
  Store::Batch batch;
  std::vector<std::string> ids;
  for (const auto& [id, r] : commands_) {
    if (!isTerminal(r.state)) continue;
    const int64_t last = r.history.empty() ? r.created_ms : r.history.back().ts_ms;
    if (last >= cutoff_ms) continue;
    batch.erase(Family::kCommands, id);
    ids.push_back(id);
  }
  if (ids.empty()) return size_t{0};
  NOA_RETURN_IF_ERROR(store_.commit(batch, /*sync=*/false));
  for (const auto& id : ids) commands_.erase(id);
  changed_.notify_all();  // a waiter on a pruned command returns (nullopt) at once
  return ids.size();
}

void CommandBook::setWakeup(std::function<void()> wakeup) {
  std::lock_guard lock(mu_);
  wakeup_ = std::move(wakeup);
}

void CommandBook::wake() {
  std::function<void()> wakeup;
  {
    std::lock_guard lock(mu_);
    wakeup = wakeup_;
  }
  if (wakeup) wakeup();
}

CommandBookStats CommandBook::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

size_t CommandBook::size() const {
  std::lock_guard lock(mu_);
  return commands_.size();
}

}  // namespace noa::controller::commands
