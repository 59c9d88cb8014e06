// noa_scale_bench: the controller at fleet scale, with simulated agents in several processes
// speaking protocol v1 over ZeroMQ with CURVE, against the real noa-controller.
//   ingest  raw ceiling vs controller at max rate (same run), then paced steps of N agents at
//           --rate reports/s: sustained reports/s, CPU per report, ingest-to-visible p50/p99,
//           RSS per step and store bytes per report (-> per agent-day)
//   storm   restart the controller (same data dir) under N connected agents: time until all
//           report again
//   fanout  one ping to each of N agents: time until every result is stored
// Prints figures, asserts nothing. See tests/bench/README.md.
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/protocol/codec.h"
#include "tests/bench/ingest_load.h"
#include "tests/bench/scale_fleet.h"
#include "tests/bench/scale_raw.h"
#include "tests/bench/scale_sim.h"
#include "tests/testing/harness/net.h"

namespace noa::bench {
namespace {

using namespace std::chrono_literals;

// --name value flags with defaults; unknown names are refused by the caller's usage check.
struct Args {
  std::map<std::string, std::string> values;
  bool ok = true;
  std::string get(const std::string& name, const std::string& fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  int getInt(const std::string& name, int fallback) const {
    return std::atoi(get(name, std::to_string(fallback)).c_str());
  }
  double getDouble(const std::string& name, double fallback) const {
    return std::atof(get(name, std::to_string(fallback)).c_str());
  }
  bool has(const std::string& name) const { return values.count(name) > 0; }
};

Args parseArgs(int argc, char** argv, int from) {
  Args args;
  for (int i = from; i < argc; ++i) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0) {
      args.ok = false;
      break;
    }
    name = name.substr(2);
    if (name == "kill9" || name == "plaintext") {
      args.values[name] = "1";
    } else if (i + 1 < argc) {
      args.values[name] = argv[++i];
    } else {
      args.ok = false;
    }
  }
  return args;
}

void header(const char* what, const Args& args) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%MZ", std::gmtime(&now));
  std::printf("%s, %s, load average %s, %u cores, report %zu bytes (40 metrics, 2 probes), %s\n",
              what, stamp, loadAverage().c_str(), std::thread::hardware_concurrency(),
              protocol::encode(makeReport(agentId(0), 1, 0)).size(),
              args.has("plaintext") ? "plaintext" : "CURVE");
  std::fflush(stdout);
}

// Waits until every agent in [0, n) had a report acknowledged after `after_ns`.
bool waitReporting(Fleet& fleet, int n, int64_t after_ns, std::chrono::seconds timeout) {
  return testing::waitUntil([&] { return fleet.reportedSince(n, after_ns) >= n; }, timeout, 5ms);
}

struct Window {
  double seconds = 0;
  uint64_t acked = 0;
  double target_cpu_s = 0;
  double generator_cpu_s = 0;
};

// Counts acks and CPU over `seconds`; `cpu` reads the receiving side's CPU in seconds.
Window measure(Fleet& fleet, int n, double seconds, const std::function<double()>& cpu) {
  SimShared* shared = fleet.shared();
  const uint64_t acked0 = fleet.ackedTotal(n);
  const double cpu0 = cpu();
  const int64_t gen0 = shared->generator_cpu_ns.load();
  const int64_t t0 = monoNowNs();
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(seconds * 1000)));
  Window w;
  w.acked = fleet.ackedTotal(n) - acked0;
  w.target_cpu_s = cpu() - cpu0;
  w.seconds = static_cast<double>(monoNowNs() - t0) / 1e9;
  w.generator_cpu_s = static_cast<double>(shared->generator_cpu_ns.load() - gen0) / 1e9;
  return w;
}

void printWindow(const char* name, const Window& w) {
  std::printf(
      "%s: %.0f reports/s (%llu in %.1f s), CPU %.1f us/report (%.0f%% of one core); "
      "load generator %.0f%% of one core\n",
      name, static_cast<double>(w.acked) / w.seconds, static_cast<unsigned long long>(w.acked),
      w.seconds, w.acked ? w.target_cpu_s * 1e6 / static_cast<double>(w.acked) : 0.0,
      w.target_cpu_s * 100 / w.seconds, w.generator_cpu_s * 100 / w.seconds);
  std::fflush(stdout);
}

std::vector<int> parseSteps(const std::string& text) {
  std::vector<int> steps;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) steps.push_back(std::atoi(part.c_str()));
  return steps;
}

int ingest(const Args& args) {
  const bool curve = !args.has("plaintext");
  const std::vector<int> steps = parseSteps(args.get("steps", "1000,5000,10000,20000"));
  const int ceiling_agents = args.getInt("ceiling-agents", 1000);
  const int per_process = args.getInt("per-process", 1000);
  const double seconds = args.getDouble("seconds", 10);
  const double rate = args.getDouble("rate", 1);
  const int max_agents = std::max(ceiling_agents, steps.empty() ? 0 : steps.back());
  const std::string kind = args.get("kind", "http");
  header("ingest", args);
  std::printf("agents of kind %s in services of 10\n", kind.c_str());
  testing::TempDir dir;
  auto fleet = Fleet::create(dir.path(), max_agents, {curve, {}, args.get("generator", "raw") != "zmq"});
  if (!fleet.ok()) return std::fprintf(stderr, "%s\n", fleet.status().toString().c_str()), 1;
  Fleet& f = **fleet;

  // 1. Raw ceiling and 2. the controller, both at max rate with the same agents.
  double raw_rate = 0, raw_cpu = 0;
  if (ceiling_agents > 0) {
    auto raw = RawIngest::start(f.dir() + "/raw-store", curve ? f.serverSecretKey() : "");
    if (!raw.ok()) return std::fprintf(stderr, "%s\n", raw.status().toString().c_str()), 1;
    (void)f.newShared("raw", ceiling_agents);
    if (Status s = f.startSims((*raw)->endpoint(), curve, 0, ceiling_agents, per_process, 0, kind);
        !s.ok() || !waitReporting(f, ceiling_agents, 0, 60s)) {
      return std::fprintf(stderr, "raw: agents did not start reporting\n"), 1;
    }
    std::this_thread::sleep_for(1s);
    Window w = measure(f, ceiling_agents, seconds, [&] { return (*raw)->cpuNs() / 1e9; });
    printWindow(("raw ceiling (" + std::to_string(ceiling_agents) + " agents, max rate)").c_str(),
                w);
    raw_rate = static_cast<double>(w.acked) / w.seconds;
    raw_cpu = w.acked ? w.target_cpu_s / static_cast<double>(w.acked) : 0;
    f.stopSims();
    (void)(*raw)->stop();

    if (Status s = f.startController(); !s.ok()) {
      return std::fprintf(stderr, "%s\n", s.toString().c_str()), 1;
    }
    (void)f.newShared("max", ceiling_agents);
    if (Status s = f.startSims(f.endpoint(), curve, 0, ceiling_agents, per_process, 0, kind);
        !s.ok() || !waitReporting(f, ceiling_agents, 0, 60s)) {
      return std::fprintf(stderr, "controller: agents did not start reporting\n"), 1;
    }
    std::this_thread::sleep_for(1s);
    const pid_t pid = f.controllerPid();
    w = measure(f, ceiling_agents, seconds, [&] { return processCpuSeconds(pid); });
    printWindow(("controller (" + std::to_string(ceiling_agents) + " agents, max rate)").c_str(),
                w);
    const double real_rate = static_cast<double>(w.acked) / w.seconds;
    const double real_cpu = w.acked ? w.target_cpu_s / static_cast<double>(w.acked) : 0;
    std::printf("controller/raw: %.2f (throughput), %.2f (CPU per report)\n",
                raw_rate > 0 ? real_rate / raw_rate : 0, raw_cpu > 0 ? real_cpu / raw_cpu : 0);
    f.stopSims();
    f.stopController();
    std::filesystem::remove_all(f.dir() + "/data");
  }

  // 3. Paced steps on a fresh store.
  if (steps.empty()) return 0;
  if (Status s = f.startController(); !s.ok()) {
    return std::fprintf(stderr, "%s\n", s.toString().c_str()), 1;
  }
  const pid_t pid = f.controllerPid();
  std::printf(
      "paced at %.2f reports/s per agent, %.0f s windows; controller RSS before agents "
      "%.1f MB\n",
      rate, seconds, processRssBytes(pid) / 1e6);
  std::printf(
      "| agents | offered/s | stored/s | CPU us/report | controller CPU %% | visible p50 "
      "| p99 (samples) | RSS MB | generator CPU %% |\n|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);
  (void)f.newShared("paced", steps.back());
  int running = 0;
  for (int step : steps) {
    const int64_t added_ns = monoNowNs();
    if (Status s =
            f.startSims(f.endpoint(), curve, running, step - running, per_process, rate, kind);
        !s.ok()) {
      return std::fprintf(stderr, "%s\n", s.toString().c_str()), 1;
    }
    running = step;
    if (!waitReporting(f, running, added_ns, 90s)) {
      std::printf("| %d | not every agent reported within 90 s: %d did |\n", running,
                  f.reportedSince(running, added_ns));
      break;
    }
    std::this_thread::sleep_for(3s);  // past the handshake burst
    std::atomic<bool> stop{false};
    std::vector<double> latencies;
    std::thread sampler(
        [&] { sampleVisibleLatency(f.apiPort(), running, f.shared(), stop, latencies); });
    Window w = measure(f, running, seconds, [&] { return processCpuSeconds(pid); });
    stop.store(true);
    sampler.join();
    // No sample: no sampled report became visible within 8 s (the controller is behind).
    char p50[32] = "n/a", p99[32] = "n/a";
    if (!latencies.empty()) {
      std::snprintf(p50, sizeof p50, "%.1f ms", percentile(latencies, 0.5));
      std::snprintf(p99, sizeof p99, "%.1f ms (%zu)", percentile(latencies, 0.99),
                    latencies.size());
    }
    std::printf("| %d | %.0f | %.0f | %.1f | %.0f | %s | %s | %.1f | %.0f |\n", running,
                running * rate, static_cast<double>(w.acked) / w.seconds,
                w.acked ? w.target_cpu_s * 1e6 / static_cast<double>(w.acked) : 0.0,
                w.target_cpu_s * 100 / w.seconds, p50, p99, processRssBytes(pid) / 1e6,
                w.generator_cpu_s * 100 / w.seconds);
    std::fflush(stdout);
  }
  const uint64_t stored = f.ackedTotal(running);
  f.stopSims();
  f.stopController();  // SIGTERM: the store is closed cleanly before it is measured
  const uint64_t bytes = directoryBytes(f.dir() + "/data");
  std::printf(
      "store: %.1f MB for %llu stored reports = %.0f bytes/report on disk -> %.1f MB per "
      "agent-day at %.2f reports/s (history retention on, default 7d)\n",
      bytes / 1e6, static_cast<unsigned long long>(stored),
      stored ? static_cast<double>(bytes) / static_cast<double>(stored) : 0.0,
      stored ? static_cast<double>(bytes) / static_cast<double>(stored) * 86400 * rate / 1e6 : 0.0,
      rate);
  return 0;
}

// Starts a controller and `agents` agents at 1 report/s, all reporting.
Status startFleetReporting(Fleet& f, int agents, int per_process, bool curve,
                           int service_size = 10) {
  NOA_RETURN_IF_ERROR(f.startController());
  NOA_RETURN_IF_ERROR(f.newShared("fleet", agents).status());
  NOA_RETURN_IF_ERROR(
      f.startSims(f.endpoint(), curve, 0, agents, per_process, 1, "http", service_size));
  if (!waitReporting(f, agents, 0, 60s)) {
    return Status::Unavailable(std::to_string(f.reportedSince(agents, 0)) + " of " +
                               std::to_string(agents) + " agents reporting after 60 s");
  }
  std::this_thread::sleep_for(2s);
  return Status::Ok();
}

int storm(const Args& args) {
  const bool curve = !args.has("plaintext");
  const int agents = args.getInt("agents", 1000);
  const int trials = args.getInt("trials", 3);
  const bool kill9 = args.has("kill9");
  header("storm", args);
  testing::TempDir dir;
  auto fleet = Fleet::create(dir.path(), agents, {curve, {}, args.get("generator", "raw") != "zmq"});
  if (!fleet.ok()) return std::fprintf(stderr, "%s\n", fleet.status().toString().c_str()), 1;
  Fleet& f = **fleet;
  if (Status s = startFleetReporting(f, agents, args.getInt("per-process", 500), curve); !s.ok()) {
    return std::fprintf(stderr, "%s\n", s.toString().c_str()), 1;
  }
  std::printf("%d agents reporting at 1/s; restarting the controller with %s, same data dir\n",
              agents, kill9 ? "SIGKILL" : "SIGTERM");
  for (int trial = 1; trial <= trials; ++trial) {
    const int64_t stop_ns = monoNowNs();
    f.stopController(kill9);
    int64_t start_ns = 0;
    if (Status s = f.startController(&start_ns); !s.ok()) {
      return std::fprintf(stderr, "%s\n", s.toString().c_str()), 1;
    }
    const int64_t healthy_ns = monoNowNs();
    std::vector<double> first_ms(agents, -1);
    int done = 0;
    while (done < agents && monoNowNs() - start_ns < 30'000'000'000) {
      for (int i = 0; i < agents; ++i) {
        if (first_ms[i] >= 0) continue;
        const int64_t t = f.shared()->agents[i].last_ok_ack_ns.load();
        if (t > start_ns) first_ms[i] = static_cast<double>(t - start_ns) / 1e6, ++done;
      }
      std::this_thread::sleep_for(2ms);
    }
    std::vector<double> seen;
    for (double ms : first_ms) {
      if (ms >= 0) seen.push_back(ms);
    }
    std::printf(
        "trial %d: all %d reporting again %.0f ms after the new controller was started "
        "(%d of %d; p50 %.0f ms; stop took %.0f ms, API up after %.0f ms)\n",
        trial, agents, percentile(seen, 1.0), done, agents, percentile(seen, 0.5),
        static_cast<double>(start_ns - stop_ns) / 1e6,
        static_cast<double>(healthy_ns - start_ns) / 1e6);
    std::fflush(stdout);
    std::this_thread::sleep_for(2s);
  }
  return 0;
}

int fanout(const Args& args) {
  const bool curve = !args.has("plaintext");
  const int agents = args.getInt("agents", 1000);
  const int threads = args.getInt("threads", 8);
  const bool posts = args.get("mode", "all") == "posts";
  header("fanout", args);
  testing::TempDir dir;
  auto fleet = Fleet::create(dir.path(), agents, {curve, {}, args.get("generator", "raw") != "zmq"});
  if (!fleet.ok()) return std::fprintf(stderr, "%s\n", fleet.status().toString().c_str()), 1;
  Fleet& f = **fleet;
  // One service holding every agent: the fan-out's target.
  if (Status s = startFleetReporting(f, agents, args.getInt("per-process", 500), curve, agents);
      !s.ok()) {
    return std::fprintf(stderr, "%s\n", s.toString().c_str()), 1;
  }
  SimShared* shared = f.shared();
  const int64_t t0 = monoNowNs();
  std::atomic<int> failed{0};
  std::vector<std::thread> posters;
  if (!posts) {  // one request: POST {"service": ..., "all": true}
    httplib::Client client("127.0.0.1", f.apiPort());
    client.set_tcp_nodelay(true);
    client.set_read_timeout(30, 0);
    const nlohmann::json body = {
        {"action", "ping"}, {"service", "benchsvc-0"}, {"all", true}, {"timeout", "1m"}};
    auto res = client.Post("/v1/commands", body.dump(), "application/json");
    if (!res || res->status != 201) {
      std::fprintf(stderr, "fan-out POST failed: %s\n", res ? res->body.c_str() : "no answer");
      return 1;
    }
  }
  for (int k = 0; k < threads && posts; ++k) {
    posters.emplace_back([&, k] {
      httplib::Client client("127.0.0.1", f.apiPort());
      client.set_keep_alive(false);  // see sampleVisibleLatency: no 40 ms delayed-ACK wait
      client.set_tcp_nodelay(true);
      for (int i = k; i < agents; i += threads) {
        const nlohmann::json body = {
            {"action", "ping"}, {"agent_id", agentId(i)}, {"timeout", "1m"}};
        auto res = client.Post("/v1/commands", body.dump(), "application/json");
        if (!res || res->status != 201) failed.fetch_add(1);
      }
    });
  }
  for (auto& t : posters) t.join();
  const int64_t posted_ns = monoNowNs();
  auto all = [&](auto field) {
    for (int i = 0; i < agents; ++i) {
      if ((shared->agents[i].*field).load() == 0) return false;
    }
    return true;
  };
  testing::waitUntil([&] { return all(&SimAgentSlot::results_acked); }, 30s, 1ms);
  int64_t last_cmd = 0, first_cmd = INT64_MAX, last_result = 0;
  int results = 0;
  for (int i = 0; i < agents; ++i) {
    const SimAgentSlot& a = shared->agents[i];
    if (a.last_command_ns.load() > 0) first_cmd = std::min(first_cmd, a.last_command_ns.load());
    last_cmd = std::max(last_cmd, a.last_command_ns.load());
    last_result = std::max(last_result, a.last_result_ack_ns.load());
    results += a.results_acked.load() > 0;
  }
  auto ms = [&](int64_t t) { return static_cast<double>(t - t0) / 1e6; };
  auto listed = testing::httpGetJson(f.apiPort(), "/v1/commands?state=succeeded&limit=1000");
  const size_t succeeded = listed.ok() ? (*listed)["commands"].size() : 0;
  const std::string how = posts ? std::to_string(agents) + " POST /v1/commands from " +
                                      std::to_string(threads) + " threads"
                                : "one POST /v1/commands {service, all: true}";
  std::printf(
      "%s: all %d created after %.0f ms (%d failed); first command at an agent after "
      "%.0f ms, last %.0f ms; %d of %d results stored, the last %.0f ms after the "
      "POST began; REST lists %zu succeeded\n",
      how.c_str(), agents, ms(posted_ns), failed.load(), ms(first_cmd), ms(last_cmd), results,
      agents, ms(last_result), succeeded);
  return 0;
}

int usage() {
  std::fprintf(stderr,
               "usage: noa_scale_bench ingest [--steps 1000,5000,10000,20000] [--rate 1]\n"
               "                              [--seconds 10] [--ceiling-agents 1000]\n"
               "                              [--per-process 1000] [--kind http] [--plaintext]\n"
               "                              [--generator raw|zmq]\n"
               "       noa_scale_bench storm  [--agents 1000] [--trials 3] [--kill9]\n"
               "                              [--per-process 500] [--plaintext]\n"
               "       noa_scale_bench fanout [--agents 1000] [--mode all|posts] [--threads 8]\n"
               "                              [--per-process 500] [--plaintext]\n");
  return 2;
}

}  // namespace
}  // namespace noa::bench

int main(int argc, char** argv) {
  using namespace noa::bench;
  if (argc < 2) return usage();
  const std::string command = argv[1];
  if (command == "sim") return simMain(std::vector<std::string>(argv + 2, argv + argc));
  installProcessGuards();
  const Args args = parseArgs(argc, argv, 2);
  if (!args.ok) return usage();
  if (command == "ingest") return ingest(args);
  if (command == "storm") return storm(args);
  if (command == "fanout") return fanout(args);
  return usage();
}
