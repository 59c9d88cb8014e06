#include "tests/bench/scale_sim.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <queue>
#include <random>
#include <sstream>
#include <zmq.hpp>

#include "common/protocol/codec.h"
#include "common/transport/dealer_socket.h"
#include "tests/bench/ingest_load.h"
#include "tests/bench/scale_shared.h"
#include "tests/bench/zmtp_curve_client.h"

namespace noa::bench {
namespace {

size_t sharedBytes(int agents) {
  return sizeof(SimShared) + sizeof(SimAgentSlot) * static_cast<size_t>(std::max(agents, 1));
}

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t processCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

enum class State { kWaitWelcome, kSession };

struct Agent {
  std::string id;
  int index = 0;  // global index (slot in SimShared)
  State state = State::kWaitWelcome;
  uint64_t seq = 0;
  int64_t next_due_ns = 0;   // next hello (kWaitWelcome) or report (kSession)
  int64_t in_flight_ns = 0;  // max-rate mode: when the unacknowledged report went out
  // Raw generator only (libzmq does these itself for a DEALER): the next heartbeat PING, and
  // the next reconnect attempt with its back-off (as DealerOptions: 250 ms doubling to 1 s).
  int64_t next_ping_ns = 0;
  int64_t reconnect_at_ns = 0;
  int64_t reconnect_ivl_ns = 0;
  bool connected = false;  // the raw client reached kReady since its last (re)connect
  int64_t wake_ns = INT64_MAX;  // its live entry in the timer heap; other entries are stale
};

// "tcp://host:port" -> host, port; false when it is not that form.
bool splitTcpEndpoint(const std::string& endpoint, std::string& host, int& port) {
  const std::string prefix = "tcp://";
  const size_t colon = endpoint.rfind(':');
  if (endpoint.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size()) {
    return false;
  }
  host = endpoint.substr(prefix.size(), colon - prefix.size());
  port = std::atoi(endpoint.c_str() + colon + 1);
  return port > 0;
}

std::string envelopeBytes(const std::string& from, const std::string& id, protocol::Body body) {
  protocol::Envelope env;
  env.id = id;
  env.ts_ms = wallMs();
  env.from = from;
  env.body = std::move(body);
  return protocol::encode(env);
}

class Sim {
 public:
  Sim(const SimOptions& options, SimShared* shared) : o_(options), shared_(shared) {}

  int run(const std::vector<std::pair<std::string, std::string>>& keys) {
    std::mt19937 rng(o_.seed);
    context_.set(zmq::ctxopt::max_sockets, o_.count + 64);
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    const int64_t now = monoNowNs();
    const int64_t interval = o_.rate > 0 ? static_cast<int64_t>(1e9 / o_.rate) : 0;
    raw_ = o_.raw_zmtp && !o_.server_key.empty();
    if (raw_ && !splitTcpEndpoint(o_.endpoint, raw_host_, raw_port_)) {
      std::fprintf(stderr, "sim: the raw generator needs a tcp://host:port endpoint\n");
      return 2;
    }
    for (int i = 0; i < o_.count; ++i) {
      Agent agent;
      agent.index = o_.first + i;
      agent.id = agentId(agent.index);
      // First hellos spread over 200 ms, reports over the interval, as real agents start.
      agent.next_due_ns = now + static_cast<int64_t>(rng() % 200'000'000);
      agent.next_ping_ns = now + static_cast<int64_t>(rng() % 1'000'000'000);
      agent.reconnect_ivl_ns = 200'000'000 + static_cast<int64_t>(rng() % 100'000'000);
      agents_.push_back(std::move(agent));
      if (raw_) {
        raw_keys_.push_back({o_.server_key, keys[i].first, keys[i].second});
        raw_clients_.emplace_back();
        if (!rawConnect(i)) return 1;
        continue;
      }
      zmq::socket_t s(context_, zmq::socket_type::dealer);
      // The options of transport::DealerSocket (the real agent's defaults), on a raw socket so
      // that one thread can watch a thousand of them through epoll.
      const transport::DealerOptions real;
      s.set(zmq::sockopt::routing_id, agents_[i].id);
      s.set(zmq::sockopt::immediate, 1);
      s.set(zmq::sockopt::sndhwm, real.send_hwm);
      s.set(zmq::sockopt::rcvhwm, real.receive_hwm);
      s.set(zmq::sockopt::reconnect_ivl,
            real.reconnect_interval_ms - 50 + static_cast<int>(rng() % 100));
      s.set(zmq::sockopt::reconnect_ivl_max, real.reconnect_interval_max_ms);
      s.set(zmq::sockopt::heartbeat_ivl, real.heartbeat_interval_ms);
      s.set(zmq::sockopt::heartbeat_timeout, real.heartbeat_timeout_ms);
      s.set(zmq::sockopt::heartbeat_ttl, real.heartbeat_ttl_ms);
      s.set(zmq::sockopt::maxmsgsize, real.max_frame_bytes);
      s.set(zmq::sockopt::linger, 0);
      if (!o_.server_key.empty()) {
        s.set(zmq::sockopt::curve_serverkey, o_.server_key);
        s.set(zmq::sockopt::curve_publickey, keys[i].first);
        s.set(zmq::sockopt::curve_secretkey, keys[i].second);
      }
      s.connect(o_.endpoint);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLET;
      ev.data.u32 = static_cast<uint32_t>(i);
      epoll_ctl(epoll_, EPOLL_CTL_ADD, s.get(zmq::sockopt::fd), &ev);
      sockets_.push_back(std::move(s));
    }
    shared_->processes_ready.fetch_add(1);
    int64_t last_cpu = processCpuNs();
    int64_t last_sweep = now;
    std::vector<epoll_event> events(256);
    for (int i = 0; i < o_.count; ++i) wakeAt(agents_[i].next_due_ns, i);
    while (!shared_->stop.load(std::memory_order_relaxed)) {
      const int64_t t = monoNowNs();
      // Only the agents that are due (a heap of wake-up times): a scan of every agent per
      // loop cost a fifth of the generator's CPU at 2,500 agents per process.
      while (!timers_.empty() && timers_.top().first <= t) {
        const auto [at, i] = timers_.top();
        timers_.pop();
        if (at != agents_[i].wake_ns) continue;  // superseded by an earlier wake-up
        agents_[i].wake_ns = INT64_MAX;
        wakeAt(due(i, t, interval), i);
      }
      const int64_t next = timers_.empty() ? t + 10'000'000
                                           : std::min(timers_.top().first, t + 10'000'000);
      drainPending(interval);
      // Rounded up: a report up to 1 ms late is no matter, a spin until the next one is due is
      // (at 2,000 agents a process has one due every 0.5 ms on average).
      const int wait_ms =
          static_cast<int>(std::clamp<int64_t>((next - t + 999'999) / 1'000'000, 0, 10));
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), wait_ms);
      for (int k = 0; k < n; ++k) drain(static_cast<int>(events[k].data.u32), interval);
      drainPending(interval);
      const int64_t after = monoNowNs();
      if (after - last_sweep > 100'000'000) {
        // Edge-triggered ZMQ_FD can miss an edge consumed by a send: sweep now and then (a
        // raw client's TCP socket has no such edge to lose).
        if (!raw_) {
          for (int i = 0; i < o_.count; ++i) drain(i, interval);
        }
        last_sweep = after;
        const int64_t cpu = processCpuNs();
        shared_->generator_cpu_ns.fetch_add(cpu - last_cpu);
        last_cpu = cpu;
      }
    }
    shared_->generator_cpu_ns.fetch_add(processCpuNs() - last_cpu);
    sockets_.clear();
    raw_clients_.clear();
    close(epoll_);
    return 0;
  }

 private:
  // Agent i wants to be looked at (due()) at `at`, or earlier if it already is. An earlier
  // time (a welcome, an ack at max rate) leaves the old entry stale: skipped when popped.
  void wakeAt(int64_t at, int i) {
    if (at >= agents_[i].wake_ns) return;
    agents_[i].wake_ns = at;
    timers_.push({at, i});
  }

  // Sends what is due for agent i at time t; returns when it is next due.
  int64_t due(int i, int64_t t, int64_t interval) {
    Agent& a = agents_[i];
    if (!raw_) return dueMessage(i, t, interval);
    if (raw_clients_[i] == nullptr) {
      if (t < a.reconnect_at_ns) return a.reconnect_at_ns;
      if (!rawConnect(i)) return t + a.reconnect_ivl_ns;
    }
    ZmtpCurveClient& c = *raw_clients_[i];
    // Not connected yet: drain() wakes it when the handshake completes; this is the fallback.
    if (c.state() != ZmtpCurveClient::State::kReady) return t + 100'000'000;
    if (t >= a.next_ping_ns) {  // the real agent's ZMQ_HEARTBEAT_IVL
      c.sendPing();
      a.next_ping_ns = t + transport::DealerOptions{}.heartbeat_interval_ms * 1'000'000LL;
    }
    return std::min(dueMessage(i, t, interval), a.next_ping_ns);
  }

  // The hello or report due for agent i at time t; returns when the next one is due.
  int64_t dueMessage(int i, int64_t t, int64_t interval) {
    Agent& a = agents_[i];
    if (a.state == State::kWaitWelcome) {
      if (t >= a.next_due_ns) {
        hello(i);
        a.next_due_ns = t + 1'000'000'000;  // hello again every interval until welcomed
      }
      return a.next_due_ns;
    }
    if (interval == 0) {  // max rate: one report in flight, resent if unanswered for 2 s
      if (a.in_flight_ns == 0 || t - a.in_flight_ns > 2'000'000'000) report(i, t);
      return t + 10'000'000;
    }
    if (t >= a.next_due_ns) {
      report(i, t);
      a.next_due_ns += interval;
      if (a.next_due_ns <= t) a.next_due_ns = t + interval;  // fell behind: do not burst
    }
    return a.next_due_ns;
  }

  // Like a DEALER with ZMQ_IMMEDIATE: false (dropped) when not connected or the queue is full.
  bool send(int i, const std::string& bytes) {
    if (raw_) return raw_clients_[i] != nullptr && raw_clients_[i]->send(bytes);
    const bool sent = sockets_[i].send(zmq::buffer(bytes), zmq::send_flags::dontwait).has_value();
    // A send may consume the edge of ZMQ_FD (libzmq processes its mailbox): read afterwards.
    pending_drain_.push_back(i);
    return sent;
  }

  bool rawConnect(int i) {
    std::string error;
    auto client = ZmtpCurveClient::connect(raw_host_, raw_port_, raw_keys_[i], agents_[i].id,
                                           &error);
    if (client == nullptr) {
      std::fprintf(stderr, "sim: %s: %s\n", agents_[i].id.c_str(), error.c_str());
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(epoll_, EPOLL_CTL_ADD, client->fd(), &ev);
    raw_clients_[i] = std::move(client);
    return true;
  }

  // A failed connection (the controller went away): close it, reconnect after the back-off,
  // and hello again then, as a real agent whose DEALER reconnected.
  void rawReconnectLater(int i) {
    Agent& a = agents_[i];
    epoll_ctl(epoll_, EPOLL_CTL_DEL, raw_clients_[i]->fd(), nullptr);
    raw_clients_[i]->close();
    raw_clients_[i].reset();
    const int64_t t = monoNowNs();
    a.reconnect_at_ns = t + a.reconnect_ivl_ns;
    a.reconnect_ivl_ns = std::min<int64_t>(a.reconnect_ivl_ns * 2, 1'000'000'000);
    a.state = State::kWaitWelcome;
    a.next_due_ns = a.reconnect_at_ns;
    a.in_flight_ns = 0;
    a.connected = false;
    wakeAt(a.reconnect_at_ns, i);
  }

  void hello(int i) {
    protocol::Envelope env = makeHello(agents_[i].id);
    auto& body = std::get<protocol::Hello>(env.body);
    body.capabilities = {"ping"};
    body.kind = o_.kind;
    body.service = "benchsvc-" + std::to_string(agents_[i].index / o_.service_size);
    send(i, protocol::encode(env));
  }

  void report(int i, int64_t t) {
    Agent& a = agents_[i];
    const uint64_t seq = a.seq + 1;
    if (!send(i, protocol::encode(makeReport(a.id, seq, wallMs())))) {
      return;  // not connected (ZMQ_IMMEDIATE) or queue full: the next one is due anyway
    }
    a.seq = seq;
    a.in_flight_ns = t;
    SharedLatencySlot& slot = shared_->latency;
    if (slot.agent.load(std::memory_order_acquire) == a.index) {
      slot.seq.store(seq);
      slot.sent_ns.store(t);
      slot.agent.store(-1);
      slot.ready.store(true, std::memory_order_release);
    }
  }

  void drainPending(int64_t interval) {
    while (!pending_drain_.empty()) {
      const int i = pending_drain_.back();
      pending_drain_.pop_back();
      drain(i, interval);
    }
  }

  void drain(int i, int64_t interval) {
    if (raw_) {
      if (raw_clients_[i] == nullptr) return;
      raw_clients_[i]->poll([&](std::string_view bytes) {
        auto env = protocol::decode(bytes);
        if (env.ok()) handle(i, *env, interval);
      });
      Agent& a = agents_[i];
      if (raw_clients_[i]->state() == ZmtpCurveClient::State::kFailed) {
        rawReconnectLater(i);
      } else if (!a.connected && raw_clients_[i]->state() == ZmtpCurveClient::State::kReady) {
        a.connected = true;
        a.reconnect_ivl_ns = 250'000'000;  // connected again: the back-off starts over
        wakeAt(monoNowNs(), i);             // its hello is due
      }
      return;
    }
    zmq::message_t msg;
    while (sockets_[i].recv(msg, zmq::recv_flags::dontwait)) {
      auto env = protocol::decode(msg.to_string_view());
      if (env.ok()) handle(i, *env, interval);
    }
  }

  void handle(int i, const protocol::Envelope& env, int64_t interval) {
    Agent& a = agents_[i];
    SimAgentSlot& slot = shared_->agents[a.index];
    const int64_t t = monoNowNs();
    if (const auto* ack = std::get_if<protocol::Ack>(&env.body)) {
      if (!ack->command_id.empty()) {
        slot.results_acked.fetch_add(1);
        slot.last_result_ack_ns.store(t);
        return;
      }
      a.in_flight_ns = 0;
      if (ack->error.empty()) {
        slot.acked.fetch_add(1, std::memory_order_relaxed);
        slot.last_ok_ack_ns.store(t, std::memory_order_relaxed);
        if (interval == 0) wakeAt(t, i);  // max rate: the next report goes out at once
        return;
      }
      slot.refused.fetch_add(1, std::memory_order_relaxed);
      if (ack->error == "hello_required") {  // the controller restarted: hello at once
        a.state = State::kWaitWelcome;
        a.next_due_ns = t;
        wakeAt(t, i);
      }
    } else if (std::holds_alternative<protocol::Welcome>(env.body)) {
      if (a.state == State::kWaitWelcome) {
        a.state = State::kSession;
        // Report at once (the real agent's first report follows its welcome), then on phase.
        a.next_due_ns = t;
        a.in_flight_ns = 0;
        wakeAt(t, i);
      }
      slot.welcomed_ns.store(t);
    } else if (const auto* cmd = std::get_if<protocol::Command>(&env.body)) {
      slot.commands.fetch_add(1);
      slot.last_command_ns.store(t);
      if (cmd->cancel) return;
      // What the real agent's executor sends for a no-op action (protocol-v1.md, Commands).
      protocol::Progress accepted{cmd->command_id, "", 0, 0, protocol::kProgressAccepted};
      send(i, envelopeBytes(a.id, a.id + "-p" + cmd->command_id, accepted));
      protocol::Progress running{cmd->command_id, "ping", 0, 0, protocol::kProgressRunning};
      send(i, envelopeBytes(a.id, a.id + "-r" + cmd->command_id, running));
      protocol::CommandResult result;
      result.command_id = cmd->command_id;
      result.status = "succeeded";
      send(i, envelopeBytes(a.id, a.id + "-x" + cmd->command_id, result));
    }
  }

  const SimOptions& o_;
  SimShared* shared_;
  zmq::context_t context_;
  int epoll_ = -1;
  std::vector<zmq::socket_t> sockets_;
  // The raw generator (SimOptions::raw_zmtp): one ZMTP+CURVE client per agent instead.
  bool raw_ = false;
  std::string raw_host_;
  int raw_port_ = 0;
  std::vector<CurveKeys> raw_keys_;
  std::vector<std::unique_ptr<ZmtpCurveClient>> raw_clients_;
  std::vector<Agent> agents_;
  std::vector<int> pending_drain_;  // sockets sent on since their last read
  // (when, agent index), earliest first.
  std::priority_queue<std::pair<int64_t, int>, std::vector<std::pair<int64_t, int>>,
                      std::greater<>>
      timers_;
};

}  // namespace

int64_t monoNowNs() { return steadyNowNs(); }

Result<SimShared*> createShared(const std::string& path, int agents) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot create " + path);
  const size_t bytes = sharedBytes(agents);
  if (ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    ::close(fd);
    return Status::IoError("cannot size " + path);
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return Status::IoError("cannot map " + path);
  auto* shared = new (p) SimShared();  // zero-filled file: placement-new only sets defaults
  shared->agent_count = agents;
  return shared;
}

Result<SimShared*> openShared(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::IoError("cannot open " + path);
  const off_t bytes = lseek(fd, 0, SEEK_END);
  void* p = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return Status::IoError("cannot map " + path);
  return static_cast<SimShared*>(p);
}

std::vector<std::string> simArgs(const SimOptions& o) {
  return {"sim",
          o.shared_path,
          o.keys_path,
          std::to_string(o.first),
          std::to_string(o.count),
          o.endpoint,
          o.server_key.empty() ? "-" : o.server_key,
          std::to_string(o.rate),
          std::to_string(o.seed),
          o.kind,
          std::to_string(o.service_size),
          o.raw_zmtp ? "raw" : "zmq"};
}

int simMain(const std::vector<std::string>& args) {
  if (args.size() != 11) {
    std::fprintf(stderr, "sim: internal subcommand of noa_scale_bench\n");
    return 2;
  }
  // Never outlive the bench, even when it is killed with SIGKILL.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  SimOptions o;
  o.shared_path = args[0];
  o.keys_path = args[1];
  o.first = std::stoi(args[2]);
  o.count = std::stoi(args[3]);
  o.endpoint = args[4];
  o.server_key = args[5] == "-" ? "" : args[5];
  o.rate = std::stod(args[6]);
  o.seed = static_cast<unsigned>(std::stoul(args[7]));
  o.kind = args[8];
  o.service_size = std::max(1, std::stoi(args[9]));
  o.raw_zmtp = args[10] == "raw";
  auto shared = openShared(o.shared_path);
  if (!shared.ok()) {
    std::fprintf(stderr, "sim: %s\n", shared.status().toString().c_str());
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> keys;
  std::ifstream in(o.keys_path);
  std::string line;
  for (int n = 0; std::getline(in, line) && n < o.first + o.count; ++n) {
    if (n < o.first) continue;
    std::istringstream fields(line);
    std::string id, pub, sec;
    fields >> id >> pub >> sec;
    keys.emplace_back(pub, sec);
  }
  if (!o.server_key.empty() && static_cast<int>(keys.size()) != o.count) {
    std::fprintf(stderr, "sim: %s has too few keys\n", o.keys_path.c_str());
    return 1;
  }
  try {
    Sim sim(o, *shared);
    return sim.run(keys);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "sim: %s\n", e.what());
    return 1;
  }
}

}  // namespace noa::bench
