#include "agent/session/session.h"

#include <algorithm>

#include "common/log.h"
#include "common/transport/curve_keys.h"

namespace noa::agent {

Session::Session(zmq::context_t& context, SessionOptions options, Clock& clock,
                 ReportSource& source, commands::CommandExecutor* executor)
    : context_(context),
      options_(std::move(options)),
      clock_(clock),
      source_(source),
      executor_(executor),
      backoff_(options_.backoff_min),
      key_backoff_(options_.key_refused_backoff_min),
      unregistered_since_(clock.now()),
      rng_(std::random_device{}()) {
  options_.dealer.identity = options_.hello.agent_id;
  options_.hello.report_interval_ms = static_cast<uint32_t>(options_.report_interval.count());
  if (executor_ != nullptr) {
    options_.hello.capabilities = executor_->capabilities();
    executor_->setWakeup([this] { wakeup_.notify(); });
  }
}

Session::~Session() {
  if (executor_ != nullptr) executor_->setWakeup(nullptr);
}

void Session::onCommand(const protocol::Command& command) {
  if (executor_ != nullptr) {
    executor_->submit(command);
    return;
  }
  // An agent built without the command channel (tests) refuses every command clearly.
  protocol::CommandResult result;
  result.command_id = command.command_id;
  result.status = "rejected";
  result.error = "action '" + command.action + "' is not supported by this agent";
  result.error_code = "unknown_action";
  (void)outbox_.pushEvent(envelope(std::move(result)));
}

void Session::takeCommandEvents() {
  if (executor_ == nullptr || !registered_) return;
  const MonoTime now = clock_.now();
  if (now >= next_reoffer_) {
    executor_->reofferSpool();
    next_reoffer_ = now + options_.spool_reoffer_interval;
  }
  for (auto& event : executor_->drainEvents()) {
    std::string bytes = std::visit([this](auto& e) { return envelope(std::move(e)); }, event);
    // A full queue drops the event: a result comes back from the spool, progress is replaced.
    if (Status queued = outbox_.pushEvent(std::move(bytes)); !queued.ok()) {
      log::debug("command event dropped", {{"error", queued.message()}});
    }
  }
}

std::chrono::milliseconds Session::jittered(std::chrono::milliseconds base) {
  std::uniform_real_distribution<double> jitter(0.5, 1.5);
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(base.count()) * jitter(rng_)));
}

void Session::setRegistered(bool registered) {
  if (registered_ && !registered) {
    unregistered_since_ = clock_.now();
    no_welcome_logged_ = false;
  }
  registered_ = registered;
  stats_.registered = registered;
}

void Session::onBye(const std::string& reason) {
  setRegistered(false);
  if (!transport::isKeyRefusal(reason)) {
    log::warn("controller closed the session", {{"reason", reason}});
    next_hello_ = clock_.now() + options_.report_interval;
    return;
  }
  ++stats_.key_refusals;
  key_refused_ = true;
  const auto wait = jittered(key_backoff_);
  log::error(
      "controller refuses this agent's key",
      {{"reason", reason}, {"retry_in_ms", wait.count()}, {"endpoint", options_.dealer.endpoint}});
  next_hello_ = clock_.now() + wait;
  key_backoff_ = std::min(key_backoff_ * 2, options_.key_refused_backoff_max);
}

std::string Session::envelope(protocol::Body body) {
  protocol::Envelope env;
  env.id = options_.hello.agent_id + "-" + std::to_string(++message_id_);
  env.ts_ms = toUnixMillis(clock_.wallNow());
  env.from = options_.hello.agent_id;
  env.body = std::move(body);
  return protocol::encode(env);
}

bool Session::connect() {
  auto socket = transport::DealerSocket::connect(context_, options_.dealer);
  if (!socket.ok()) {
    log::error("cannot create controller connection", {{"error", socket.status().toString()}});
    return false;
  }
  socket_ = std::move(socket).value();
  setRegistered(false);
  const MonoTime now = clock_.now();
  last_heard_ = now;
  next_hello_ = now;
  log::info("connecting to controller", {{"endpoint", options_.dealer.endpoint}});
  return true;
}

void Session::dropConnection(const StopToken& stop) {
  socket_.reset();
  setRegistered(false);
  ++stats_.reconnects;
  // Randomised and growing, so a fleet that lost the controller together does not come back
  // in one burst.
  const auto wait = jittered(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.backoff_max);
  stop.waitFor(wait);
}

void Session::sendHello() {
  Status sent = socket_->send(envelope(options_.hello));
  if (sent.ok()) ++stats_.hellos_sent;
  const MonoTime now = clock_.now();
  if (key_refused_) {
    // Silence after this hello is the refusal's rate limit, not a lost controller; wait a full
    // back-off for the next answer.
    last_heard_ = now;
    next_hello_ = now + jittered(key_backoff_);
  } else {
    next_hello_ = now + options_.report_interval;
  }
}

void Session::queueReport() {
  // Taken before anything else: the earlier the send time, the earlier (safer) our deadline.
  const MonoTime sent = clock_.now();
  protocol::Report report;
  source_.fill(report);
  report.seq = ++seq_;
  sent_at_[report.seq] = sent;
  while (sent_at_.size() > kSentTimesKept) sent_at_.erase(sent_at_.begin());
  outbox_.offerReport(envelope(std::move(report)));
  next_report_ = clock_.now() + options_.report_interval;
}

void Session::onLeaseGrant(const protocol::Ack& ack) {
  if (ack.lease_ms == 0 || !ack.error.empty() || !options_.on_lease_grant) return;
  auto it = sent_at_.find(ack.seq);
  if (it == sent_at_.end()) {
    log::debug("lease grant for a report not remembered; ignored", {{"seq", ack.seq}});
    return;
  }
  options_.on_lease_grant(it->second + std::chrono::milliseconds(ack.lease_ms), ack.leader_epoch);
}

void Session::handle(std::string_view payload) {
  last_heard_ = clock_.now();
  auto decoded = protocol::decode(payload);
  if (!decoded.ok()) {
    log::warn("bad message from controller", {{"error", decoded.status().toString()}});
    return;
  }
  const protocol::Envelope& env = *decoded;
  switch (env.type()) {
    case protocol::MessageType::kWelcome: {
      if (!registered_) {
        log::info("registered with controller",
                  {{"controller", std::get<protocol::Welcome>(env.body).controller_id}});
      }
      setRegistered(true);
      backoff_ = options_.backoff_min;
      key_refused_ = false;
      key_backoff_ = options_.key_refused_backoff_min;
      next_report_ = clock_.now();  // first report right away
      // The controller may have lost whatever we sent before this session: offer every
      // unacknowledged result again (at the next turn, now that we are registered).
      next_reoffer_ = clock_.now();
      return;
    }
    case protocol::MessageType::kAck: {
      const auto& ack = std::get<protocol::Ack>(env.body);
      ++stats_.acks_received;
      if (!ack.command_id.empty() && executor_ != nullptr) executor_->onAck(ack);
      onLeaseGrant(ack);
      if (ack.error == "hello_required") {
        if (registered_) log::info("controller asks for hello again (it restarted)");
        setRegistered(false);
        next_hello_ = clock_.now();
      } else if (!ack.error.empty()) {
        ++stats_.rejected_by_controller;
        log::warn("controller refused a message",
                  {{"ref", ack.ref}, {"error", ack.error}, {"detail", ack.detail}});
      }
      return;
    }
    case protocol::MessageType::kCommand:
      onCommand(std::get<protocol::Command>(env.body));
      return;
    case protocol::MessageType::kBye:
      onBye(std::get<protocol::Bye>(env.body).reason);
      return;
    default:
      log::warn("unexpected message from controller",
                {{"type", protocol::messageTypeName(env.type())}});
  }
}

void Session::run(const StopToken& stop) {
  const auto timeout = options_.report_interval * options_.controller_timeout_intervals;
  bool lost_logged = false;
  while (!stop.stopRequested()) {
    if (!socket_ && !connect()) {
      stop.waitFor(options_.backoff_max);
      continue;
    }
    MonoTime now = clock_.now();
    if (!registered_ && now >= next_hello_) sendHello();
    if (registered_ && (now >= next_report_ || report_now_.exchange(false))) queueReport();
    takeCommandEvents();
    const uint64_t replaced_before = outbox_.replacedReports();
    stats_.reports_sent +=
        outbox_.flush([this](std::string_view bytes) { return socket_->send(bytes); });
    stats_.reports_replaced += outbox_.replacedReports() - replaced_before;
    stats_.queued_events = outbox_.pendingEvents();

    now = clock_.now();
    const MonoTime next_due = registered_ ? next_report_ : next_hello_;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now);
    wait = std::clamp(wait, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
    auto received = socket_->receive(wait, &wakeup_);
    if (!received.ok()) {
      log::warn("controller connection failed", {{"error", received.status().toString()}});
      dropConnection(stop);
      continue;
    }
    if (received->has_value()) {
      handle(**received);
      lost_logged = false;
      // Drain whatever else arrived without waiting.
      for (int i = 0; i < 100; ++i) {
        auto more = socket_->receive(std::chrono::milliseconds(0));
        if (!more.ok() || !more->has_value()) break;
        handle(**more);
      }
    }
    if (!registered_ && !key_refused_ && !no_welcome_logged_ &&
        clock_.now() - unregistered_since_ > options_.no_welcome_warning) {
      log::warn(
          "no welcome from the controller: is the controller's public key right? is this "
          "agent's key enrolled (noa-agent show-key; noactl keys list)? do agent and "
          "controller agree on --insecure-plaintext?",
          {{"endpoint", options_.dealer.endpoint},
           {"waiting_ms", std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() -
                                                                                unregistered_since_)
                              .count()}});
      no_welcome_logged_ = true;
    }
    if (clock_.now() - last_heard_ > timeout && !key_refused_) {
      if (!lost_logged) {
        log::warn("controller lost; reconnecting",
                  {{"silent_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                     clock_.now() - last_heard_)
                                     .count()}});
        lost_logged = true;
      }
      dropConnection(stop);
    }
  }
  if (socket_ && registered_) (void)socket_->send(envelope(protocol::Bye{"agent stopping"}));
}

}  // namespace noa::agent
