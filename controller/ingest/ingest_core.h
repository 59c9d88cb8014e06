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

#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/protocol/codec.h"
#include "controller/ingest/controller_metrics.h"
#include "controller/registry/registry.h"
#include "controller/store/store.h"

namespace noa::controller {

struct IngestOptions {
  std::string controller_id = "noa-controller";
  LivenessPolicy liveness;
  protocol::DecodeLimits limits;
};

struct Reply {
  std::string peer;
  std::string payload;
  // Set on acks of reports: an ack promises the report is stored, so when the batch's commit
  // fails the loop answers with ack_error instead.
  std::string stored_ack_ref;
};

class IngestCore {
 public:
  IngestCore(Registry& registry, Clock& clock, ControllerMetrics& metrics, IngestOptions options);

  // Handles one message. Store writes go to `batch`, replies to `replies`. Never fails: a bad
  // message is counted, logged and (where useful) answered.
  void handle(const std::string& peer, std::string_view payload, size_t extra_frames,
              Store::Batch& batch, std::vector<Reply>& replies);

  // Stages the latest record of every agent touched since the last flush (at most one write
  // per agent per batch).
  void flushDirty(Store::Batch& batch);

  // Degrades liveness of silent agents; stages the changed records and logs each transition.
  void sweepLiveness(Store::Batch& batch);

  // An ack refusing message `ref` (used when a batch could not be stored).
  std::string ackError(const std::string& ref, const std::string& error, const std::string& detail);

  // Forgets that an agent has a session (it disconnected or was declared lost).
  bool hasSession(const std::string& agent_id) const { return sessions_.count(agent_id) > 0; }

 private:
  void reject(const std::string& peer, std::string_view reason, const std::string& detail);
  void onHello(const std::string& peer, const protocol::Envelope& env, Store::Batch& batch,
               std::vector<Reply>& replies);
  void onReport(const std::string& peer, const protocol::Envelope& env, std::string_view payload,
                Store::Batch& batch, std::vector<Reply>& replies);
  void onBye(const std::string& peer, const protocol::Envelope& env);
  void markSeen(AgentRecord& record);
  std::string makeEnvelope(protocol::Body body);

  Registry& registry_;
  Clock& clock_;
  ControllerMetrics& metrics_;
  const IngestOptions options_;
  std::set<std::string> sessions_;  // agents that said hello to this controller process
  std::set<std::string> dirty_;
  uint64_t next_message_id_ = 1;
};

}  // namespace noa::controller
