#pragma once

// What the controller does with each message from an agent, without any socket: decode,
// validate, update the registry, stage store writes and produce replies. The ingest loop
// (ingest_loop.h) feeds it from the ROUTER socket; tests feed it directly.
//
// Sessions: an agent must say hello before its reports count. After a controller restart the
// agents' reports are answered with ack{error: "hello_required"} and they say hello again, so
// nobody has to act by hand.
//
// Not thread-safe: one writer. The registry it updates is read concurrently by the REST API.
//
// With CURVE (a KeyRegistry is given), every message carries the key id its connection
// authenticated with (the ZAP User-Id) and is judged by that key first:
//   accepted  the key's bound agent id must equal the envelope's `from` and the routing id,
//             else "identity_mismatch" (counted, logged, no reply); a mismatch on the routing
//             id of an agent with a session also ends that session, because with
//             ROUTER_HANDOVER the impersonating connection now holds the agent's routing id
//             and replies must not go to it
//   pending   a hello records the claimed agent id, service and host and is answered with
//             bye("key <id> awaits enrollment: ...") at most once per key per
//             kKeyByeInterval; anything else is dropped ("key_pending"). With --auto-accept
//             the claimed id is accepted and the hello proceeds
//   rejected/revoked  dropped ("key_revoked"), answered bye("key revoked") at most once per
//             kKeyByeInterval
// A revocation takes effect at the next loop pass (applyKeyChanges): bye("key revoked") to
// that agent and its session ends; other connections are untouched.
// Without a KeyRegistry (--insecure-plaintext) the routing id is the identity, as before.
//
// Commands (a CommandBook is given): a hello marks the agent's unfinished commands due again;
// deliverCommands() sends what is due to agents with a session (the book stores "sent" before
// the message goes); progress is applied to the book at once, results are collected and
// applied together by applyPendingResults() (one synced commit per drain), each acknowledged
// with ack{command_id} only after that commit. A result is taken from an agent without
// a session too (after a controller restart, before its hello): its key already proved who it
// is, and the agent would only offer it again. An unknown command's result is answered with
// ack{error: "rejected"} so the agent drops it; a store failure with "store_unavailable", so the
// agent keeps it spooled and offers it again.

#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/protocol/codec.h"
#include "controller/commands/command_book.h"
#include "controller/failover/lease_table.h"
#include "controller/ingest/controller_metrics.h"
#include "controller/registry/registry.h"
#include "controller/security/key_registry.h"
#include "controller/store/store.h"

namespace noa::controller {

struct IngestOptions {
  std::string controller_id = "noa-controller";
  LivenessPolicy liveness;
  protocol::DecodeLimits limits;
  // How long a report may live only in history before the agent's record catches up. Every
  // report is in history the moment it is acknowledged, and a restart takes each agent's newest
  // report from there (refreshFromHistory), so the record need not be rewritten per report: at
  // 20,000 agents that write was a third of the store traffic. Hellos and liveness changes are
  // written at once. 0 = the record is written with every report.
  std::chrono::milliseconds record_checkpoint_every{0};
};

struct Reply {
  std::string peer;
  std::string payload;
  // Set on acks of reports: an ack promises the report is stored, so when the batch's commit
  // fails the loop answers with ack_error instead.
  std::string stored_ack_ref;
};

inline constexpr std::chrono::seconds kKeyByeInterval{5};

class IngestCore {
 public:
  // `keys` null = plaintext (--insecure-plaintext); otherwise it must outlive this object.
  IngestCore(Registry& registry, Clock& clock, ControllerMetrics& metrics, IngestOptions options,
             KeyRegistry* keys = nullptr, commands::CommandBook* commands = nullptr);

  // Handles one message. Store writes go to `batch`, replies to `replies`. Never fails: a bad
  // message is counted, logged and (where useful) answered. `user_id` is the connection's
  // ZAP User-Id (the key id; empty in plaintext).
  void handle(const std::string& peer, std::string_view payload, size_t extra_frames,
              Store::Batch& batch, std::vector<Reply>& replies) {
    handle(peer, payload, extra_frames, std::string(), batch, replies);
  }
  void handle(const std::string& peer, std::string_view payload, size_t extra_frames,
              const std::string& user_id, Store::Batch& batch, std::vector<Reply>& replies);

  // Ends the sessions of agents whose keys were revoked since the last call, with a bye each.
  // Cheap when nothing changed (one atomic load).
  void applyKeyChanges(std::vector<Reply>& replies);

  // Stages the latest record of every agent whose hello or liveness changed since the last
  // flush, and of every agent whose reports are older than record_checkpoint_every (at most one
  // write per agent per batch). `everything` also stages the ones not due yet (shutdown).
  void flushDirty(Store::Batch& batch, bool everything = false);

  // Degrades liveness of silent agents; stages the changed records and logs each transition.
  void sweepLiveness(Store::Batch& batch);

  // An ack refusing message `ref` (used when a batch could not be stored).
  std::string ackError(const std::string& ref, const std::string& error, const std::string& detail);

  // Applies the results handle() collected since the last call, in one synced commit, and
  // answers each (ack, or ack{error} when the commit failed). Call once per drain, after the
  // last handle() and before the replies go out.
  void applyPendingResults(std::vector<Reply>& replies);

  // Sends every due command to agents that have a session (replies carry them).
  void deliverCommands(std::vector<Reply>& replies);
  // Times out commands past their deadline and forgets finished ones older than
  // `finished_retention`; call about once a second.
  void expireCommands(std::chrono::milliseconds finished_retention);

  // Leader leases: the ack of a stored report from a lease holder renews its lease and says so
  // (lease_ms, leader_epoch). Null = no failover (tests of other parts).
  void attachLeases(failover::LeaseTable* leases) { leases_ = leases; }

  // After a restart the agents that were connected to the previous process do not know this one
  // has no session for them: each would learn it only from the hello_required answering its next
  // report, up to a report interval later. The ingest loop sends them that answer unprompted
  // (an ack without ref) for a while after the start: these are the known agents that have no
  // session yet. An agent that is not connected costs one failed non-blocking send.
  std::vector<std::string> agentsWithoutSession() const;
  std::string helloRequiredNudge();
  // An agent refused while its key was pending retries only after a back-off of 5-60 s. Once
  // the key is accepted (allowlist file, `noactl keys accept`), this sends it ack{hello_required}
  // so it says hello at once. Cheap when no refused agent waits; call every loop pass.
  void nudgeEnrolled(std::vector<Reply>& replies);

  // Forgets that an agent has a session (it disconnected or was declared lost).
  bool hasSession(const std::string& agent_id) const { return sessions_.count(agent_id) > 0; }

 private:
  void reject(const std::string& peer, std::string_view reason, const std::string& detail);
  void onHello(const std::string& peer, const protocol::Envelope& env, Store::Batch& batch,
               std::vector<Reply>& replies);
  void onReport(const std::string& peer, protocol::Envelope& env, std::string_view payload,
                Store::Batch& batch, std::vector<Reply>& replies);
  void onBye(const std::string& peer, const protocol::Envelope& env);
  void onCommandEvent(const std::string& peer, const protocol::Envelope& env,
                      std::vector<Reply>& replies);
  // The reply (for a result) and the counting of one applied progress or result.
  void answerCommandEvent(const std::string& peer, const std::string& envelope_id,
                          const std::string& command_id, bool is_result,
                          const Result<commands::ApplyResult>& applied,
                          std::vector<Reply>& replies);
  void markSeen(AgentRecord& record);
  std::string makeEnvelope(protocol::Body body);
  // The key's binding, from a cache dropped whenever the KeyRegistry's generation moves.
  const KeyBinding* resolveKey(const std::string& key_id);
  // Handles a message of a key that is not accepted. Returns true when the message may go on
  // (a pending key was just accepted by --auto-accept or the allowlist).
  bool onUnacceptedKey(const std::string& peer, const std::string& key_id,
                       const KeyBinding& binding, std::string_view payload,
                       std::vector<Reply>& replies);
  // At most one key-refusal bye per key per kKeyByeInterval.
  void keyBye(const std::string& peer, const std::string& key_id, const std::string& reason,
              std::vector<Reply>& replies);

  Registry& registry_;
  Clock& clock_;
  ControllerMetrics& metrics_;
  const IngestOptions options_;
  // Every report is decoded into the metric names of the report it replaces (see
  // protocol::DecodeScratch).
  protocol::DecodeScratch decode_scratch_;
  std::unordered_set<std::string> sessions_;  // agents that said hello to this controller process
  std::set<std::string> dirty_;
  // Agents whose newest report is only in history, oldest first (one entry per agent).
  std::deque<std::pair<MonoTime, std::string>> report_only_queue_;
  std::unordered_set<std::string> report_only_;
  uint64_t next_message_id_ = 1;

  KeyRegistry* const keys_;
  commands::CommandBook* const commands_;
  failover::LeaseTable* leases_ = nullptr;
  struct PendingResult {
    std::string peer;
    std::string envelope_id;
    protocol::CommandResult msg;
  };
  std::vector<PendingResult> pending_results_;  // since the last applyPendingResults()
  MonoTime last_command_prune_{};
  uint64_t key_cache_generation_ = 0;
  std::unordered_map<std::string, KeyBinding> key_cache_;   // key id -> binding
  std::unordered_map<std::string, MonoTime> last_key_bye_;  // key id -> last refusal bye
  static constexpr size_t kMaxRefusedPendingKept = 10'000;
  std::map<std::string, std::string> refused_pending_;  // agent id -> its pending key id
  uint64_t revocations_seen_generation_ = 0;
};

}  // namespace noa::controller
