#include "tests/bench/ingest_load.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <vector>
#include <zmq.hpp>

#include "common/protocol/codec.h"

namespace noa::bench {
namespace {

int64_t wallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum class AgentState { kWaitWelcome, kIdle, kInFlight };

struct SimAgent {
  std::string id;
  AgentState state = AgentState::kIdle;
  uint64_t seq = 0;
  int64_t next_due_ns = 0;
};

}  // namespace

int64_t threadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t steadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string agentId(int index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "bench-%05d", index);
  return buf;
}

protocol::Envelope makeHello(const std::string& agent_id) {
  protocol::Hello hello;
  hello.agent_id = agent_id;
  hello.service = "benchsvc";
  hello.kind = "redis";
  hello.host = "bench-host";
  hello.agent_version = "bench";
  hello.capabilities = {"restart"};
  hello.pid = 4242;
  hello.report_interval_ms = 1000;
  protocol::Envelope env;
  env.id = agent_id + "-hello";
  env.ts_ms = wallNowMs();
  env.from = agent_id;
  env.body = std::move(hello);
  return env;
}

protocol::Envelope makeReport(const std::string& agent_id, uint64_t seq, int64_t ts_ms) {
  protocol::Report report;
  report.seq = seq;
  report.role = "replica";
  report.health.state = "healthy";
  report.health.live = report.health.ready = report.health.started = true;
  for (const char* kind : {"liveness", "readiness"}) {
    protocol::ProbeState probe;
    probe.name = kind;
    probe.kind = kind;
    probe.state = "success";
    probe.consecutive_successes = static_cast<uint32_t>(seq);
    probe.latency_us = 350 + static_cast<uint32_t>(seq % 50);
    probe.detail = "PONG role:slave";
    report.health.probes.push_back(std::move(probe));
  }
  static const char* const kFamilies[] = {
      "cpu_seconds",         "memory_rss_bytes",         "io_read_bytes",
      "io_write_bytes",      "redis_commands_processed", "redis_connected_clients",
      "redis_keyspace_hits", "redis_keyspace_misses"};
  for (int i = 0; i < 40; ++i) {
    report.metrics.push_back(
        {std::string(kFamilies[i % 8]) + "_" + std::to_string(i / 8) + "_per_second",
         1000.5 * i + static_cast<double>(seq % 997)});
  }
  report.attributes = {{"master_link_status", "up"}, {"repl_offset", std::to_string(seq * 512)}};
  protocol::Envelope env;
  env.id = agent_id + "-" + std::to_string(seq);
  env.ts_ms = ts_ms;
  env.from = agent_id;
  env.body = std::move(report);
  return env;
}

Result<LoadResult> runLoad(const LoadOptions& options) {
  try {
    zmq::context_t context;
    // The default of 1023 sockets per context would cap the number of simulated agents.
    context.set(zmq::ctxopt::max_sockets, options.agents + 64);
    std::vector<zmq::socket_t> sockets;
    std::vector<zmq::pollitem_t> items;
    std::vector<SimAgent> agents(options.agents);
    sockets.reserve(options.agents);
    for (int i = 0; i < options.agents; ++i) {
      agents[i].id = agentId(i);
      zmq::socket_t socket(context, zmq::socket_type::dealer);
      socket.set(zmq::sockopt::routing_id, agents[i].id);
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::sndhwm, 10);
      socket.connect(options.endpoint);
      sockets.push_back(std::move(socket));
    }
    for (auto& socket : sockets) items.push_back({socket.handle(), 0, ZMQ_POLLIN, 0});

    auto sendHello = [&](int i) {
      std::string bytes = protocol::encode(makeHello(agents[i].id));
      (void)sockets[i].send(zmq::buffer(bytes), zmq::send_flags::dontwait);
      agents[i].state = AgentState::kWaitWelcome;
    };
    const int64_t interval_ns = options.rate > 0 ? static_cast<int64_t>(1e9 / options.rate) : 0;
    bool in_window = false;
    LoadResult result;

    auto sendReport = [&](int i, int64_t now_ns) {
      SimAgent& agent = agents[i];
      const uint64_t seq = agent.seq + 1;
      std::string bytes = protocol::encode(makeReport(agent.id, seq, wallNowMs()));
      if (!sockets[i].send(zmq::buffer(bytes), zmq::send_flags::dontwait)) return;
      agent.seq = seq;
      agent.state = AgentState::kInFlight;
      agent.next_due_ns = now_ns + interval_ns;
      LatencySlot* slot = options.latency;
      if (in_window && slot != nullptr && slot->agent.load(std::memory_order_acquire) == i) {
        slot->seq.store(seq);
        slot->sent_ns.store(now_ns);
        slot->agent.store(-1);
        slot->ready.store(true, std::memory_order_release);
      }
    };

    auto drain = [&]() {
      for (size_t i = 0; i < items.size(); ++i) {
        if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
        zmq::message_t msg;
        while (sockets[i].recv(msg, zmq::recv_flags::dontwait)) {
          auto env = protocol::decode(msg.to_string_view());
          if (!env.ok()) continue;
          SimAgent& agent = agents[i];
          if (const auto* ack = std::get_if<protocol::Ack>(&env->body)) {
            if (ack->error == "hello_required") {
              sendHello(static_cast<int>(i));
              continue;
            }
            if (in_window) ++(ack->error.empty() ? result.acked : result.refused);
            agent.state = AgentState::kIdle;
          } else if (std::holds_alternative<protocol::Welcome>(env->body)) {
            agent.state = AgentState::kIdle;
          }
        }
      }
    };

    if (options.say_hello) {
      for (int i = 0; i < options.agents; ++i) sendHello(i);
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (std::any_of(agents.begin(), agents.end(),
                         [](const SimAgent& a) { return a.state == AgentState::kWaitWelcome; })) {
        if (std::chrono::steady_clock::now() > give_up) {
          return Status::Unavailable("not every simulated agent was welcomed within 30 s");
        }
        zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
        drain();
      }
    }

    if (options.on_start) options.on_start();
    in_window = true;
    const int64_t start_ns = steadyNowNs();
    const int64_t cpu_start_ns = threadCpuNs();
    const int64_t end_ns = start_ns + static_cast<int64_t>(options.seconds * 1e9);
    int64_t now_ns = start_ns;
    while (now_ns < end_ns) {
      int64_t next_due = end_ns;
      for (int i = 0; i < options.agents; ++i) {
        if (agents[i].state != AgentState::kIdle) continue;
        if (agents[i].next_due_ns <= now_ns) {
          sendReport(i, now_ns);
        } else {
          next_due = std::min(next_due, agents[i].next_due_ns);
        }
      }
      const int64_t wait_ms = std::clamp<int64_t>((next_due - now_ns) / 1000000, 0, 10);
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(wait_ms));
      drain();
      now_ns = steadyNowNs();
    }
    in_window = false;
    result.generator_cpu_s = static_cast<double>(threadCpuNs() - cpu_start_ns) / 1e9;
    if (options.on_stop) options.on_stop();
    result.elapsed_s = static_cast<double>(steadyNowNs() - start_ns) / 1e9;
    return result;
  } catch (const zmq::error_t& e) {
    return Status::IoError(std::string("load generator: ") + e.what());
  }
}

}  // namespace noa::bench
