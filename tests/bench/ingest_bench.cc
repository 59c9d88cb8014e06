// noa_ingest_bench: how many reports a second the controller stores, against a raw ceiling
// measured in the same run (ROUTER + decode + one RocksDB WriteBatch per drain of up to 100, no
// registry, no sessions, no API). See tests/bench/README.md.
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "common/protocol/codec.h"
#include "common/transport/router_socket.h"
#include "controller/store/store.h"
#include "tests/bench/ingest_load.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"

namespace noa::bench {
namespace {

using namespace std::chrono_literals;

struct Flags {
  int agents = 100;
  double seconds = 10;
  double rate = 0;
};

bool parseFlags(int argc, char** argv, Flags& flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (arg == "--agents") {
      flags.agents = std::atoi(value);
    } else if (arg == "--seconds") {
      flags.seconds = std::atof(value);
    } else if (arg == "--rate") {
      flags.rate = std::atof(value);
    } else {
      return false;
    }
  }
  return flags.agents > 0 && flags.seconds > 0 && flags.rate >= 0;
}

int64_t wallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// utime + stime of a process in seconds; -1 when it cannot be read.
double processCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may contain spaces and parentheses: fields are counted after the last ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; fields >> field; ++n) {
    if (n == 14) utime = std::stoull(field);
    if (n == 15) {
      stime = std::stoull(field);
      break;
    }
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// --- raw ceiling -------------------------------------------------------------------------

struct RawReceiver {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> cpu_ns{0};  // the receiver thread's CPU time, published after each drain
  std::atomic<uint64_t> commits{0};
  Status error;
};

void runRawReceiver(transport::RouterSocket& router, controller::Store& store, RawReceiver& state) {
  std::vector<transport::IncomingMessage> drained;
  std::vector<std::pair<std::string, std::string>> replies;
  while (!state.stop.load()) {
    drained.clear();
    replies.clear();
    auto first = router.receive(50ms);
    if (!first.ok()) {
      state.error = first.status();
      return;
    }
    if (!first->has_value()) continue;
    drained.push_back(std::move(**first));
    while (drained.size() < 100) {
      auto next = router.receive(0ms);
      if (!next.ok() || !next->has_value()) break;
      drained.push_back(std::move(**next));
    }
    controller::Store::Batch batch;
    const int64_t now_ms = wallNowMs();
    for (const auto& message : drained) {
      auto env = protocol::decode(message.payload);
      if (!env.ok()) continue;
      const auto* report = std::get_if<protocol::Report>(&env->body);
      if (report == nullptr) continue;
      controller::AgentRecord record;
      record.hello.agent_id = message.peer;
      record.last_seen_ms = now_ms;
      record.last_seq = report->seq;
      record.has_report = true;
      record.last_report = *report;
      record.last_report_ts_ms = env->ts_ms;
      batch.putAgent(record);
      batch.appendHistory(message.peer, now_ms, report->seq, message.payload);
      protocol::Envelope ack;
      ack.id = "raw-" + env->id;
      ack.ts_ms = now_ms;
      ack.from = "raw";
      ack.body = protocol::Ack{env->id, report->seq, "", ""};
      replies.emplace_back(message.peer, protocol::encode(ack));
    }
    if (Status committed = store.commit(batch); !committed.ok()) {
      state.error = committed;
      return;
    }
    ++state.commits;
    for (const auto& [peer, bytes] : replies) (void)router.send(peer, bytes);
    state.cpu_ns.store(threadCpuNs());
  }
}

struct Figures {
  double reports_per_s = 0;
  double cpu_us_per_report = 0;
};

Result<Figures> runRaw(const Flags& flags, const std::string& dir) {
  NOA_ASSIGN_OR_RETURN(auto store, controller::Store::open({dir + "/raw-store"}));
  zmq::context_t context;
  transport::RouterOptions router_options;
  router_options.bind_endpoint = "tcp://127.0.0.1:" + std::to_string(testing::freePort());
  NOA_ASSIGN_OR_RETURN(auto router, transport::RouterSocket::bind(context, router_options));
  RawReceiver state;
  std::thread receiver([&] { runRawReceiver(*router, *store, state); });

  int64_t cpu_start = 0, cpu_end = 0;
  LoadOptions load;
  load.endpoint = router->endpoint();
  load.agents = flags.agents;
  load.seconds = flags.seconds;
  load.rate = flags.rate;
  load.say_hello = false;
  load.on_start = [&] { cpu_start = state.cpu_ns.load(); };
  load.on_stop = [&] { cpu_end = state.cpu_ns.load(); };
  auto result = runLoad(load);
  state.stop.store(true);
  receiver.join();
  if (!state.error.ok()) return state.error;
  if (!result.ok()) return result.status();
  Figures figures;
  figures.reports_per_s = static_cast<double>(result->acked) / result->elapsed_s;
  if (result->acked > 0) {
    figures.cpu_us_per_report =
        static_cast<double>(cpu_end - cpu_start) / 1000.0 / static_cast<double>(result->acked);
  }
  std::printf(
      "raw ceiling: %.0f reports/s (%llu in %.1f s), receiver thread CPU %.1f us/report, "
      "%llu commits; load generator %.0f%% of one core\n",
      figures.reports_per_s, static_cast<unsigned long long>(result->acked), result->elapsed_s,
      figures.cpu_us_per_report, static_cast<unsigned long long>(state.commits.load()),
      result->generator_cpu_s * 100.0 / result->elapsed_s);
  return figures;
}

// --- real controller ---------------------------------------------------------------------

std::atomic<pid_t> g_controller_pid{0};

void killControllerAndExit(int signal_number) {
  const pid_t pid = g_controller_pid.load();
  if (pid > 0) kill(pid, SIGKILL);
  _exit(128 + signal_number);
}

// Polls the REST API for one sampled report at a time until it is visible.
void sampleLatency(int api_port, int agents, LatencySlot& slot, const std::atomic<bool>& stop,
                   std::vector<double>& latencies_ms, std::vector<double>& round_trips_ms) {
  httplib::Client client("127.0.0.1", api_port);
  // A new connection per GET: on a kept-alive one the server's second small write (body after
  // headers, no TCP_NODELAY) waits ~40 ms for our delayed ACK; a fresh connection acks at once.
  client.set_keep_alive(false);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(5, 0);
  int next = 0;
  while (!stop.load()) {
    const int agent = next++ % agents;
    slot.ready.store(false);
    slot.agent.store(agent, std::memory_order_release);
    while (!stop.load() && !slot.ready.load(std::memory_order_acquire)) {
      std::this_thread::sleep_for(1ms);
    }
    if (stop.load()) break;
    const uint64_t seq = slot.seq.load();
    const int64_t sent_ns = slot.sent_ns.load();
    const std::string path = "/v1/agents/" + agentId(agent);
    while (!stop.load()) {
      const int64_t get_start_ns = steadyNowNs();
      auto response = client.Get(path);
      round_trips_ms.push_back(static_cast<double>(steadyNowNs() - get_start_ns) / 1e6);
      if (response && response->status == 200) {
        auto body = nlohmann::json::parse(response->body, nullptr, false);
        if (!body.is_discarded() && body.value("last_seq", uint64_t{0}) >= seq) {
          latencies_ms.push_back(static_cast<double>(steadyNowNs() - sent_ns) / 1e6);
          break;
        }
      }
      std::this_thread::sleep_for(500us);
    }
    std::this_thread::sleep_for(20ms);
  }
}

Result<Figures> runReal(const Flags& flags, const std::string& dir) {
  const int zmq_port = testing::freePort();
  const int api_port = testing::freePort();
  NOA_ASSIGN_OR_RETURN(
      auto controller,
      testing::ChildProcess::start(
          {NOA_CONTROLLER_BIN, "--controller-id", "bench-ctl", "--data-dir", dir + "/data",
           "--listen", "tcp://127.0.0.1:" + std::to_string(zmq_port), "--api-listen",
           "127.0.0.1:" + std::to_string(api_port),
           // The simulated agents are plain DEALERs and the sampler reads REST without a
           // token: this measures ingest, not CURVE (noa_scale_bench measures it with CURVE).
           "--insecure-plaintext", "--api-auth", "none"},
          dir + "/controller.log"));
  g_controller_pid.store(controller->pid());
  if (!testing::waitUntil([&] { return testing::httpGet(api_port, "/v1/health").ok(); }, 15s)) {
    return Status::Unavailable("controller did not come up:\n" + controller->logTail());
  }

  LatencySlot slot;
  std::atomic<bool> stop_sampler{false};
  std::vector<double> latencies_ms;
  std::vector<double> round_trips_ms;
  std::thread sampler;
  double cpu_start = 0, cpu_end = 0;
  LoadOptions load;
  load.endpoint = "tcp://127.0.0.1:" + std::to_string(zmq_port);
  load.agents = flags.agents;
  load.seconds = flags.seconds;
  load.rate = flags.rate;
  load.latency = &slot;
  load.on_start = [&] {
    cpu_start = processCpuSeconds(controller->pid());
    sampler = std::thread([&] {
      sampleLatency(api_port, flags.agents, slot, stop_sampler, latencies_ms, round_trips_ms);
    });
  };
  load.on_stop = [&] {
    cpu_end = processCpuSeconds(controller->pid());
    stop_sampler.store(true);
  };
  auto result = runLoad(load);
  stop_sampler.store(true);
  if (sampler.joinable()) sampler.join();
  controller->terminate(5s);
  g_controller_pid.store(0);
  if (!result.ok()) return result.status();

  Figures figures;
  figures.reports_per_s = static_cast<double>(result->acked) / result->elapsed_s;
  if (result->acked > 0) {
    figures.cpu_us_per_report = (cpu_end - cpu_start) * 1e6 / static_cast<double>(result->acked);
  }
  std::printf(
      "controller: %.0f reports/s (%llu acked, %llu refused, in %.1f s), "
      "controller CPU %.1f us/report (%.0f%% of one core); load generator %.0f%%\n",
      figures.reports_per_s, static_cast<unsigned long long>(result->acked),
      static_cast<unsigned long long>(result->refused), result->elapsed_s,
      figures.cpu_us_per_report, (cpu_end - cpu_start) * 100.0 / result->elapsed_s,
      result->generator_cpu_s * 100.0 / result->elapsed_s);
  std::printf(
      "ingest-to-visible latency (GET /v1/agents/{id}): p50 %.1f ms, p99 %.1f ms "
      "(%zu samples; one GET round trip p50 %.1f ms, p99 %.1f ms)\n",
      percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.99), latencies_ms.size(),
      percentile(round_trips_ms, 0.50), percentile(round_trips_ms, 0.99));
  return figures;
}

int run(int argc, char** argv) {
  Flags flags;
  if (!parseFlags(argc, argv, flags)) {
    std::cerr << "usage: noa_ingest_bench [--agents N] [--seconds S] [--rate R]\n"
                 "  R = reports per agent per second; 0 (default) = next one as soon as acked\n";
    return 2;
  }
  signal(SIGINT, killControllerAndExit);
  signal(SIGTERM, killControllerAndExit);
  testing::TempDir dir;
  std::printf("agents %d, %.0f s per phase, rate %s, report %zu bytes (40 metrics, 2 probes)\n",
              flags.agents, flags.seconds,
              flags.rate > 0 ? (std::to_string(flags.rate) + "/s per agent").c_str() : "max",
              protocol::encode(makeReport(agentId(0), 1, wallNowMs())).size());
  std::fflush(stdout);

  auto raw = runRaw(flags, dir.path());
  if (!raw.ok()) {
    std::cerr << "raw ceiling failed: " << raw.status().toString() << "\n";
    return 1;
  }
  std::fflush(stdout);
  auto real = runReal(flags, dir.path());
  if (!real.ok()) {
    std::cerr << "controller run failed: " << real.status().toString() << "\n";
    return 1;
  }
  if (raw->reports_per_s > 0) {
    std::printf("real/raw: %.2f (throughput)", real->reports_per_s / raw->reports_per_s);
    if (raw->cpu_us_per_report > 0) {
      std::printf(", %.2f (CPU per report)", real->cpu_us_per_report / raw->cpu_us_per_report);
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace
}  // namespace noa::bench

int main(int argc, char** argv) { return noa::bench::run(argc, argv); }
