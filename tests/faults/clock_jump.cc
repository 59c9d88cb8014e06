// clock-jump: a real Redis master + replica on loopback, an agent beside each; the master's
// agent runs under libfaketime (LD_PRELOAD libfaketimeMT, FAKETIME_DONT_FAKE_MONOTONIC=1, a
// timestamp file re-read on every call), so only *its* CLOCK_REALTIME moves; the machine's
// clock is never touched. Each trial moves that wall clock through a random sequence of jumps
// (hours and days, forwards and backwards, each held 3 s: longer than the 2 s lease) and
// requires, sampled every 100 ms throughout:
//   - the jump took effect (the agent's report timestamps follow its fake clock),
//   - the master stays the primary, at the same epoch, with its lease valid and not fenced (no
//     "redis fenced" in its log), its agent alive,
//   - a writer on the master never stalls for a lease's length (the longest gap is the figure).
// (The agent's log timestamps are fake too, so a fence is looked for in the whole log.)
// Durations on the agent are monotonic (agent/runtime/lease_guard.h); this shows they are.

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/faults/redis_node.h"
#include "tests/faults/trial.h"
#include "tests/testing/servers/redis_server.h"

namespace noa::testing::faults {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

const char* const kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

std::string attr(const json& agent, const std::string& name) {
  const json& a = agent.value("attributes", json::object());
  if (!a.contains(name)) return "";
  return a[name].is_string() ? a[name].get<std::string>() : a[name].dump();
}

struct Jump {
  const char* text;  // libfaketime offset syntax
  int64_t offset_ms;
};

}  // namespace

TrialTally clockJumpTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "clock-jump";
  tally.recovery_what = "longest write gap on the master";
  if (!fs::exists(kFaketime)) {
    tally.fail(std::string(kFaketime) + " missing: apt-get install faketime (deploy/install-deps.sh)");
    return tally;
  }
  TempDir dir;
  const std::string stamp = dir.path() + "/faketime";
  std::ofstream(stamp) << "+0\n";
  std::vector<std::unique_ptr<RedisServer>> servers;
  auto master = RedisServer::start({});
  if (!master.ok()) {
    tally.fail(master.status().toString());
    return tally;
  }
  servers.push_back(std::move(master).value());
  RedisServerOptions ro;
  ro.extra_args = {"--replicaof", "127.0.0.1", std::to_string(servers[0]->port())};
  auto replica = RedisServer::start(ro);
  if (!replica.ok()) {
    tally.fail(replica.status().toString());
    return tally;
  }
  servers.push_back(std::move(replica).value());
  auto created = NoaCluster::create(dir.path(), options.binaries, "200ms", "info");
  if (!created.ok() || !(*created)->startController().ok()) {
    tally.fail("controller did not start");
    return tally;
  }
  NoaCluster& cluster = **created;
  cluster.setAgentPrefix("redis-1", {"env", std::string("LD_PRELOAD=") + kFaketime,
                                     "FAKETIME_TIMESTAMP_FILE=" + stamp, "FAKETIME_NO_CACHE=1",
                                     "FAKETIME_DONT_FAKE_MONOTONIC=1"});
  for (int i = 0; i < 2; ++i) {
    const std::string id = "redis-" + std::to_string(i + 1);
    if (!cluster.startAgent(id, {"--service", "cache", "--kind", "redis", "--service-host",
                                 "127.0.0.1", "--service-port", std::to_string(servers[i]->port())})
             .ok()) {
      tally.fail("agent " + id + " did not start");
      return tally;
    }
  }
  auto failover = [&] {
    auto f = cluster.getJson("/v1/services/cache/failover");
    return f.ok() ? *f : json();
  };
  if (!waitUntil([&] {
        const json f = failover();
        return f.value("leader", json()) == "redis-1" && f.value("lease_valid", false) &&
               cluster.isAlive("redis-2");
      }, 60s)) {
    tally.fail("redis-1 never held the lease: " + failover().dump() + cluster.logs());
    return tally;
  }
  const uint64_t epoch = failover().value("epoch", uint64_t{0});
  // An agent fences its primary until its first grant; only fences after that count.
  const size_t fences_at_start = countLogLines(dir.path(), "agent-redis-1-", "redis fenced");
  const std::vector<Jump> jumps = {{"+1h", 3600000},    {"-1h", -3600000}, {"+1d", 86400000},
                                   {"-2d", -172800000}, {"+10m", 600000},  {"-30s", -30000},
                                   {"+5s", 5000},       {"+0", 0}};
  std::mt19937 rng(options.seed);
  for (int t = 0; t < options.trials; ++t) {
    std::string why;
    RedisWriter writer("127.0.0.1", servers[0]->port());
    int64_t worst_gap = 0;
    std::vector<Jump> order = jumps;
    std::shuffle(order.begin(), order.end() - 1, rng);  // "+0" stays last: back to real time
    for (const Jump& jump : order) {
      std::ofstream(stamp) << jump.text << "\n";
      const auto hold = std::chrono::steady_clock::now();
      bool followed = false;
      int64_t last_ok = wallMs();
      while (std::chrono::steady_clock::now() - hold < 3s && why.empty()) {
        const json f = failover();
        auto agents = cluster.agents();
        const json a = agents.count("redis-1") ? agents["redis-1"] : json();
        if (f.value("leader", json()) != "redis-1" || f.value("epoch", uint64_t{0}) != epoch) {
          why = std::string("failover during the jump ") + jump.text + ": " + f.dump().substr(0, 300);
        } else if (a.is_null() || a.value("state", "") != "alive") {
          why = std::string("redis-1 not alive during the jump ") + jump.text;
        } else if (!attr(a, "fenced").empty()) {
          why = std::string("redis-1 fenced (") + attr(a, "fenced") + ") during the jump " + jump.text;
        } else if (attr(a, "lease_valid") != "1" && attr(a, "lease_valid") != "true" &&
                   std::chrono::steady_clock::now() - hold > 500ms) {
          why = std::string("lease not valid during the jump ") + jump.text + ": " + attr(a, "lease_valid");
        }
        // The agent stamps its reports with its own (fake) wall clock.
        const int64_t skew = rfc3339Ms(a.value("last_report_at", json())) - wallMs();
        if (std::llabs(skew - jump.offset_ms) < 2000) followed = true;
        const int64_t ok_at = writer.lastOkMs();
        if (ok_at > last_ok) last_ok = ok_at;
        worst_gap = std::max(worst_gap, wallMs() - last_ok);
        std::this_thread::sleep_for(100ms);
      }
      if (why.empty() && !followed) {
        why = std::string("the agent's clock did not follow the jump ") + jump.text +
              " (is libfaketime in effect?)";
      }
      if (!why.empty()) break;
    }
    writer.stop();
    if (why.empty() && countLogLines(dir.path(), "agent-redis-1-", "redis fenced") > fences_at_start) {
      why = "redis-1's agent logged a fence";
    }
    if (why.empty() && worst_gap > 1000) {
      why = "writes to the master stalled " + std::to_string(worst_gap) + " ms";
    }
    if (options.verbose) {
      std::cerr << "clock-jump trial " << t + 1 << ": " << order.size() << " jumps, longest write gap "
                << worst_gap << " ms" << (why.empty() ? "" : ": " + why) << "\n";
    }
    if (why.empty()) {
      tally.pass(worst_gap);
    } else {
      tally.fail(why);
      if (options.verbose) std::cerr << cluster.logs() << "\n";
    }
  }
  return tally;
}

}  // namespace noa::testing::faults
