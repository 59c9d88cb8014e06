// controller-kill: a controller with 5 agents (kind generic) reporting every 200 ms; each trial
// starts commands (pings and a snapshot.create of a 24 MB tree, which runs a while), kills -9
// the controller at a random moment 0-400 ms later, reopens its RocksDB store with
// Store::open while it is down (every agent record readable, every acknowledged command
// present), restarts it and then requires
//   - every agent reporting again (a new session and a report) within 2 s of the restart,
//   - every acknowledged command ending `succeeded` with its result stored exactly once,
//   - /v1/health 200 and every agent in /v1/agents.

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/faults/store_check.h"
#include "tests/faults/trial.h"

namespace noa::testing::faults {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kAgents = 5;
const std::vector<std::string> kControllerArgs = {"--lost-after", "50"};

std::string agentId(int i) { return "gen-" + std::to_string(i + 1); }

// Incompressible files, so zstd takes its time and the kill lands while the snapshot runs.
Status writeTree(const std::string& dir, size_t files, size_t bytes_each) {
  fs::create_directories(dir);
  std::mt19937_64 rng(42);
  std::string block(bytes_each, '\0');
  for (size_t f = 0; f < files; ++f) {
    for (size_t i = 0; i + 8 <= block.size(); i += 8) {
      const uint64_t v = rng();
      std::memcpy(&block[i], &v, 8);
    }
    std::ofstream out(dir + "/f" + std::to_string(f), std::ios::binary);
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
    if (!out) return Status::IoError("cannot write " + dir);
  }
  return Status::Ok();
}

// Every agent has said hello to this controller (session started after `restart_ms`) and
// reported in that session.
bool allReporting(NoaCluster& cluster, int64_t restart_ms) {
  auto agents = cluster.agents();
  for (int i = 0; i < kAgents; ++i) {
    auto it = agents.find(agentId(i));
    if (it == agents.end()) return false;
    if (rfc3339Ms(it->second["session_started_at"]) < restart_ms) return false;
    if (it->second.value("last_seq", 0) < 1) return false;
  }
  return true;
}

// The command's result is stored and its history holds exactly one terminal entry.
std::string checkDone(NoaCluster& cluster, const std::string& id) {
  auto got = cluster.getJson("/v1/commands/" + id);
  if (!got.ok()) return id + ": unreadable (" + got.status().toString() + ")";
  const json& c = *got;
  if (c.value("state", "") != "succeeded") return id + " ended " + c.dump().substr(0, 400);
  if (!c.contains("result") || c["result"].is_null()) return id + ": no result stored";
  size_t terminal = 0;
  for (const auto& h : c.value("history", json::array())) {
    terminal += isTerminal(h.value("state", ""));
  }
  if (terminal != 1) return id + ": " + std::to_string(terminal) + " terminal transitions";
  return "";
}

}  // namespace

Status writeTreeForSnapshots(const std::string& dir) { return writeTree(dir, 6, 4 << 20); }

TrialTally controllerKillTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "controller-kill";
  tally.recovery_what = "restart -> all agents reporting";
  TempDir dir;
  const std::string source = dir.path() + "/source";
  if (Status s = writeTreeForSnapshots(source); !s.ok()) {
    tally.fail(s.toString());
    return tally;
  }
  auto created = NoaCluster::create(dir.path(), options.binaries, "200ms", "info");
  if (!created.ok()) {
    tally.fail(created.status().toString());
    return tally;
  }
  NoaCluster& cluster = **created;
  if (Status s = cluster.startController(kControllerArgs); !s.ok()) {
    tally.fail(s.toString());
    return tally;
  }
  std::vector<std::string> ids;
  for (int i = 0; i < kAgents; ++i) {
    const std::string snaps = dir.path() + "/snap-" + agentId(i);
    fs::create_directories(snaps);
    ids.push_back(agentId(i));
    Status s = cluster.startAgent(agentId(i), {"--service", "gen", "--snapshot-dir", snaps});
    if (!s.ok() || !cluster.waitAlive(agentId(i), 20s)) {
      tally.fail("agent " + agentId(i) + " did not come up: " + s.toString() + cluster.logs());
      return tally;
    }
  }
  std::mt19937 rng(options.seed);
  std::vector<std::string> acknowledged;  // every command the REST API answered 201 for
  int64_t total_recovery = 0;
  for (int t = 0; t < options.trials; ++t) {
    std::vector<std::string> mine;
    std::string why;
    for (int i = 0; i < kAgents && why.empty(); ++i) {
      json body = {{"action", "ping"}, {"agent_id", agentId(i)}};
      if (i == t % kAgents) {
        body = {{"action", "snapshot.create"},
                {"agent_id", agentId(i)},
                {"params", {{"source_dir", source}, {"name", "t" + std::to_string(t) + ".tar.zst"}}}};
      }
      auto id = createCommand(cluster, body);
      if (!id.ok()) why = id.status().toString();
      else mine.push_back(*id);
    }
    acknowledged.insert(acknowledged.end(), mine.begin(), mine.end());
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    cluster.killController();
    if (why.empty()) {
      auto facts = checkStore(dir.path() + "/data", ids, acknowledged);
      if (!facts.ok()) why = "store after kill -9: " + facts.status().toString();
    }
    const int64_t restart_ms = wallMs();
    const auto restart = std::chrono::steady_clock::now();
    if (Status s = cluster.startController(kControllerArgs); !s.ok() && why.empty()) {
      why = "restart: " + s.toString();
    }
    const bool back = waitUntil([&] { return allReporting(cluster, restart_ms); }, 10s, 20ms);
    const int64_t recovery = sinceMs(restart);
    if (why.empty() && !back) why = "not every agent reported within 10 s of the restart";
    if (why.empty() && recovery > 2000) {
      why = "agents reporting again only after " + std::to_string(recovery) + " ms (> 2 s)";
    }
    for (const auto& id : mine) {
      if (!why.empty()) break;
      if (!waitUntil([&] { return isTerminal(commandState(cluster, id)); }, 30s)) {
        why = id + " not terminal 30 s after the restart: " + commandState(cluster, id);
      } else {
        why = checkDone(cluster, id);
      }
    }
    if (why.empty()) {
      auto health = httpGet(cluster.apiPort(), "/v1/health");
      if (!health.ok() || health->status != 200) why = "health not 200 after the restart";
      else if (cluster.agents().size() != static_cast<size_t>(kAgents)) why = "agents missing";
    }
    if (why.empty()) {
      total_recovery += recovery;
      tally.pass(recovery);
    } else {
      tally.fail(why);
      if (options.verbose) std::cerr << cluster.logs() << "\n";
    }
    if (options.verbose) std::cerr << "controller-kill trial " << t + 1 << ": " << (why.empty() ? "ok" : why) << ", " << recovery << " ms\n";
  }
  // All of them, at the end too: a later crash must not lose an earlier result.
  for (const auto& id : acknowledged) {
    if (std::string bad = checkDone(cluster, id); !bad.empty()) {
      tally.failures.push_back("at the end: " + bad);
      tally.passed = std::max(0, tally.passed - 1);
    }
  }
  if (tally.passed > 0) {
    tally.notes.push_back("mean restart -> all agents reporting: " +
                          std::to_string(total_recovery / tally.passed) + " ms; " +
                          std::to_string(acknowledged.size()) + " commands, none lost");
  }
  return tally;
}

}  // namespace noa::testing::faults
