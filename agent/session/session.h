#pragma once

// The agent's conversation with the controller over one DEALER socket:
//   hello (repeated every interval until welcome) -> report every interval, and at once when
//   reportNow() is called -> acks. Any message from the controller counts as its heartbeat;
//   after `controller_timeout_intervals` without one, the socket is dropped and a new one is
//   made after a randomised, growing back-off (no reconnect storms), then hello again.
// An ack with error "hello_required" (the controller restarted) triggers hello at once.
// A bye that refuses this agent's key (pending enrollment, revoked: transport::isKeyRefusal) is
// logged at error and hello is retried after a randomised back-off that grows from
// key_refused_backoff_min to _max on the same connection, so an unenrolled fleet cannot hammer
// the controller. When no welcome arrives for `no_welcome_warning` (a CURVE handshake that fails
// is silent: wrong controller key, key refused at the handshake, plaintext on one side only),
// the session says so in the log once.
//
// Commands (an executor is given): `command` messages go to the executor, which runs them and
// queues progress and results; the session sends those first (before the report) as soon as the
// executor rings its wakeup. After every welcome, and every `spool_reoffer_interval` while
// registered, unacknowledged results are offered again, so a result produced while the
// controller was away reaches it once it is back; ack{command_id} tells the executor to drop one.
//
// Leader lease: an ack with lease_ms grants the lease from when the acked report (ack.seq) was
// sent. The session remembers when its recent reports were queued (bounded by
// kSentTimesKept) and hands `send time + lease_ms` to `on_lease_grant`; an ack for a report it
// no longer remembers grants nothing. Queue time is never later than the time ZeroMQ sends,
// so this deadline is never later than the controller's.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <zmq.hpp>

#include "agent/commands/command_executor.h"
#include "agent/session/outbox.h"
#include "agent/session/report_source.h"
#include "common/clock.h"
#include "common/protocol/codec.h"
#include "common/stop_token.h"
#include "common/transport/dealer_socket.h"
#include "common/transport/wakeup.h"

namespace noa::agent {

struct SessionOptions {
  transport::DealerOptions dealer;  // endpoint; identity is set from hello.agent_id
  protocol::Hello hello;
  std::chrono::milliseconds report_interval{1000};
  uint32_t controller_timeout_intervals = 3;
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{5000};
  std::chrono::milliseconds key_refused_backoff_min{5000};
  std::chrono::milliseconds key_refused_backoff_max{60000};
  std::chrono::milliseconds no_welcome_warning{10000};
  std::chrono::milliseconds spool_reoffer_interval{30000};
  // Called on the session thread for each lease grant (deadline on the monotonic clock).
  std::function<void(MonoTime deadline, uint64_t epoch)> on_lease_grant;
};

struct SessionStats {
  std::atomic<uint64_t> hellos_sent{0};
  std::atomic<uint64_t> reports_sent{0};
  std::atomic<uint64_t> reports_replaced{0};
  std::atomic<uint64_t> acks_received{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> rejected_by_controller{0};
  std::atomic<uint64_t> key_refusals{0};  // byes refusing this agent's key
  std::atomic<bool> registered{false};
  std::atomic<uint64_t> queued_events{0};  // command results/progress not yet handed to ZeroMQ
};

class Session {
 public:
  // `executor` (optional) runs the controller's commands; it must outlive the session.
  Session(zmq::context_t& context, SessionOptions options, Clock& clock, ReportSource& source,
          commands::CommandExecutor* executor = nullptr);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs until `stop` is requested; says bye on the way out.
  void run(const StopToken& stop);

  // Thread-safe: asks for a report at the next loop turn (a probe changed state).
  void reportNow() {
    report_now_.store(true);
    wakeup_.notify();  // a dead service or a fence is news now, not at the next poll timeout
  }

  const SessionStats& stats() const { return stats_; }

  static constexpr size_t kSentTimesKept = 64;

 private:
  bool connect();
  void dropConnection(const StopToken& stop);
  void sendHello();
  void queueReport();
  void handle(std::string_view payload);
  void onLeaseGrant(const protocol::Ack& ack);
  void onCommand(const protocol::Command& command);
  // Moves the executor's progress and results into the outbox (registered only).
  void takeCommandEvents();
  void onBye(const std::string& reason);
  void setRegistered(bool registered);
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);
  std::string envelope(protocol::Body body);

  zmq::context_t& context_;
  SessionOptions options_;
  Clock& clock_;
  ReportSource& source_;
  SessionStats stats_;
  std::atomic<bool> report_now_{false};

  commands::CommandExecutor* const executor_;
  transport::Wakeup wakeup_;  // rung by the executor when it has something to send
  MonoTime next_reoffer_{};

  std::unique_ptr<transport::DealerSocket> socket_;
  Outbox outbox_;
  bool registered_ = false;
  uint64_t seq_ = 0;
  std::map<uint64_t, MonoTime> sent_at_;  // report seq -> when it was queued
  uint64_t message_id_ = 0;
  MonoTime last_heard_{};
  MonoTime next_hello_{};
  MonoTime next_report_{};
  std::chrono::milliseconds backoff_;
  bool key_refused_ = false;  // the controller refused our key; hello on key_backoff_
  std::chrono::milliseconds key_backoff_;
  MonoTime unregistered_since_{};
  bool no_welcome_logged_ = false;
  std::mt19937 rng_;
};

}  // namespace noa::agent
