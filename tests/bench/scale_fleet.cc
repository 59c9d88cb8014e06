#include "tests/bench/scale_fleet.h"

#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/transport/curve_keys.h"
#include "tests/bench/ingest_load.h"
#include "tests/bench/scale_sim.h"
#include "tests/testing/harness/net.h"

namespace noa::bench {
namespace {

using namespace std::chrono_literals;

// Process groups to SIGKILL from the signal handler (async-signal-safe: atomics and kill).
constexpr int kMaxPids = 512;
std::atomic<pid_t> g_pids[kMaxPids];

void track(pid_t pid) {
  for (auto& slot : g_pids) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}
void untrack(pid_t pid) {
  for (auto& slot : g_pids) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void killAllAndExit(int signal_number) {
  for (auto& slot : g_pids) {
    const pid_t pid = slot.load();
    if (pid > 0) kill(-pid, SIGKILL);
  }
  _exit(128 + signal_number);
}

std::string selfExe() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "noa_scale_bench";
}

std::string procField(pid_t pid, const std::string& file, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

}  // namespace

void installProcessGuards() {
  signal(SIGINT, killAllAndExit);
  signal(SIGTERM, killAllAndExit);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    // 20,000 agents are 20,000 connections on the controller alone, and this VM's hard limit
    // is 20,000: raise it when allowed (root), else take what there is.
    const rlim_t wanted = 65536;
    if (limit.rlim_max < wanted) {
      rlimit raised{wanted, wanted};
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return;
    }
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Result<std::unique_ptr<Fleet>> Fleet::create(const std::string& dir, int agents,
                                             ControllerFlags flags) {
  std::unique_ptr<Fleet> fleet(new Fleet());
  fleet->dir_ = dir;
  fleet->agents_ = agents;
  fleet->flags_ = std::move(flags);
  fleet->zmq_port_ = testing::freePort();
  fleet->api_port_ = testing::freePort();
  NOA_ASSIGN_OR_RETURN(transport::CurveKeyPair server,
                       transport::loadOrCreateKeyPair(dir + "/keys", "controller"));
  fleet->server_public_ = server.public_key;
  fleet->server_secret_ = server.secret_key;
  std::ofstream keys(dir + "/agent-keys");
  std::ofstream allow(dir + "/allowlist");
  for (int i = 0; i < agents; ++i) {
    NOA_ASSIGN_OR_RETURN(transport::CurveKeyPair pair, transport::generateKeyPair());
    keys << agentId(i) << ' ' << pair.public_key << ' ' << pair.secret_key << '\n';
    allow << agentId(i) << ' ' << pair.public_key << '\n';
  }
  if (!keys.flush() || !allow.flush()) return Status::IoError("cannot write keys in " + dir);
  return fleet;
}

Fleet::~Fleet() {
  stopSims();
  stopController(/*kill9=*/true);
}

std::string Fleet::endpoint() const { return "tcp://127.0.0.1:" + std::to_string(zmq_port_); }

pid_t Fleet::controllerPid() const { return controller_ ? controller_->pid() : 0; }

Status Fleet::startController(int64_t* started_ns) {
  // NOA_CONTROLLER_BIN in the environment runs another build's controller (before/after).
  const char* bin = std::getenv("NOA_CONTROLLER_BIN");
  std::vector<std::string> argv = {bin != nullptr && *bin != '\0' ? bin : NOA_CONTROLLER_BIN,
                                   "--controller-id", "bench-ctl", "--data-dir",
                                   dir_ + "/data", "--listen", endpoint(), "--api-listen",
                                   "127.0.0.1:" + std::to_string(api_port_),
                                   // REST is only read to see reports and write commands here.
                                   "--api-auth", "none", "--api-rate-limit", "100000",
                                   "--api-rate-burst", "100000", "--log-level", "warn"};
  if (flags_.curve) {
    argv.insert(argv.end(), {"--key-dir", dir_ + "/keys", "--allowlist-file", dir_ + "/allowlist"});
  } else {
    argv.push_back("--insecure-plaintext");
  }
  argv.insert(argv.end(), flags_.extra.begin(), flags_.extra.end());
  if (started_ns != nullptr) *started_ns = monoNowNs();
  NOA_ASSIGN_OR_RETURN(controller_, testing::ChildProcess::start(
                                        argv, dir_ + "/controller-" +
                                                  std::to_string(++controller_starts_) + ".log"));
  track(controller_->pid());
  const int64_t forked_ns = monoNowNs();
  // Long: the first start enrolls the whole allowlist (one synced commit per key).
  const bool up = testing::waitUntil([&] { return testing::httpGet(api_port_, "/v1/health").ok(); },
                                     600s, 10ms);
  if (!up) return Status::Unavailable("controller did not come up:\n" + controller_->logTail());
  const double up_s = static_cast<double>(monoNowNs() - forked_ns) / 1e9;
  if (up_s > 2) std::printf("(controller start took %.1f s)\n", up_s);
  return Status::Ok();
}

void Fleet::stopController(bool kill9) {
  if (!controller_) return;
  untrack(controller_->pid());
  if (kill9) {
    controller_->kill9();
    controller_->wait(5s);
  } else {
    controller_->terminate(10s);
  }
  controller_.reset();
}

Result<SimShared*> Fleet::newShared(const std::string& name, int agents) {
  shared_path_ = dir_ + "/" + name + ".shm";
  NOA_ASSIGN_OR_RETURN(shared_, createShared(shared_path_, agents));
  return shared_;
}

Status Fleet::startSims(const std::string& endpoint, bool curve, int first, int count,
                        int per_process, double rate, const std::string& kind, int service_size) {
  const int ready_before = shared_->processes_ready.load();
  int started = 0;
  for (int at = first; at < first + count; at += per_process) {
    SimOptions o;
    o.shared_path = shared_path_;
    o.keys_path = dir_ + "/agent-keys";
    o.first = at;
    o.count = std::min(per_process, first + count - at);
    o.endpoint = endpoint;
    o.server_key = curve ? server_public_ : "";
    o.rate = rate;
    o.kind = kind;
    o.service_size = service_size;
    o.raw_zmtp = flags_.raw_generator;
    o.seed = static_cast<unsigned>(at + 1);
    std::vector<std::string> argv = simArgs(o);
    argv.insert(argv.begin(), selfExe());
    NOA_ASSIGN_OR_RETURN(auto child, testing::ChildProcess::start(
                                         argv, dir_ + "/sim-" + std::to_string(at) + ".log"));
    track(child->pid());
    sims_.push_back(std::move(child));
    ++started;
  }
  const bool ready = testing::waitUntil(
      [&] { return shared_->processes_ready.load() >= ready_before + started; }, 60s, 10ms);
  if (!ready) {
    return Status::Unavailable("simulated agents did not start:\n" + sims_.back()->logTail());
  }
  return Status::Ok();
}

void Fleet::stopSims() {
  if (shared_ != nullptr) shared_->stop.store(true);
  for (auto& sim : sims_) {
    if (sim->wait(3s) < 0) sim->kill9();
    untrack(sim->pid());
  }
  sims_.clear();
}

int Fleet::reportedSince(int n, int64_t after_ns) const {
  int count = 0;
  for (int i = 0; i < n; ++i) count += shared_->agents[i].last_ok_ack_ns.load() > after_ns;
  return count;
}

int Fleet::welcomed(int n) const {
  int count = 0;
  for (int i = 0; i < n; ++i) count += shared_->agents[i].welcomed_ns.load() > 0;
  return count;
}

uint64_t Fleet::ackedTotal(int n) const {
  uint64_t total = 0;
  for (int i = 0; i < n; ++i) total += shared_->agents[i].acked.load();
  return total;
}

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

uint64_t processRssBytes(pid_t pid) {
  const std::string kb = procField(pid, "status", "VmRSS:");
  return kb.empty() ? 0 : std::stoull(kb) * 1024;
}

uint64_t directoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    std::error_code size_ec;
    if (entry.is_regular_file(size_ec)) total += entry.file_size(size_ec);
  }
  return total;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void sampleVisibleLatency(int api_port, int agents, SimShared* shared,
                          const std::atomic<bool>& stop, std::vector<double>& latencies_ms) {
  httplib::Client client("127.0.0.1", api_port);
  // A new connection per GET: on a kept-alive one the server's body write waits ~40 ms for
  // our delayed ACK (see README, "Finding"); a fresh connection is acked at once.
  client.set_keep_alive(false);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(5, 0);
  SharedLatencySlot& slot = shared->latency;
  for (int next = 0; !stop.load(); next += 7919) {  // a prime stride spreads over processes
    const int agent = next % agents;
    slot.ready.store(false);
    slot.agent.store(agent, std::memory_order_release);
    const int64_t give_up = monoNowNs() + 3'000'000'000;
    while (!stop.load() && !slot.ready.load(std::memory_order_acquire) && monoNowNs() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    if (stop.load()) break;
    if (!slot.ready.load()) continue;
    const uint64_t seq = slot.seq.load();
    const int64_t sent_ns = slot.sent_ns.load();
    const std::string path = "/v1/agents/" + agentId(agent);
    while (!stop.load() && monoNowNs() < give_up + 5'000'000'000) {
      auto response = client.Get(path);
      if (response && response->status == 200) {
        auto body = nlohmann::json::parse(response->body, nullptr, false);
        if (!body.is_discarded() && body.value("last_seq", uint64_t{0}) >= seq) {
          latencies_ms.push_back(static_cast<double>(monoNowNs() - sent_ns) / 1e6);
          break;
        }
      }
      std::this_thread::sleep_for(500us);
    }
    std::this_thread::sleep_for(20ms);
  }
  slot.agent.store(-1);
}

}  // namespace noa::bench
