#include "tests/faults/store_trial.h"

#include <filesystem>
#include <fstream>

#include "tests/faults/store_check.h"

namespace noa::testing::faults {
namespace {

using namespace std::chrono_literals;

constexpr int kAgents = 3;
const std::vector<std::string> kControllerArgs = {"--lost-after", "50"};
std::string agentId(int i) { return "store-" + std::to_string(i + 1); }

}  // namespace

void printStoreLines(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().rfind("controller-", 0) != 0) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      if (line.find("store") != std::string::npos && line.find("refused") == std::string::npos) {
        std::cerr << line.substr(0, 400) << "\n";
      }
    }
  }
}

Result<std::unique_ptr<StoreTrialRig>> StoreTrialRig::start(const std::string& dir,
                                                            const TrialOptions& options) {
  NOA_ASSIGN_OR_RETURN(std::unique_ptr<NoaCluster> cluster,
                       NoaCluster::create(dir, options.binaries, "200ms", "info"));
  if (!cluster->startController(kControllerArgs).ok()) {
    return Status::Unavailable("controller did not start" + cluster->logs());
  }
  std::unique_ptr<StoreTrialRig> rig(new StoreTrialRig(dir, std::move(cluster)));
  for (int i = 0; i < kAgents; ++i) {
    rig->ids_.push_back(agentId(i));
    if (!rig->cluster_->startAgent(agentId(i), {"--service", "store"}).ok() ||
        !rig->cluster_->waitAlive(agentId(i))) {
      return Status::Unavailable("agent did not come up" + rig->cluster_->logs());
    }
  }
  return rig;
}

std::string StoreTrialRig::pingSucceeds() {
  auto id = createCommand(*cluster_, {{"action", "ping"}, {"agent_id", ids_.front()}});
  if (!id.ok()) return "ping refused: " + id.status().toString();
  acknowledged_.push_back(*id);
  if (!waitUntil([&] { return commandState(*cluster_, *id) == "succeeded"; }, 15s)) {
    return "ping " + *id + " not succeeded: " + commandState(*cluster_, *id);
  }
  return "";
}

std::map<std::string, uint64_t> StoreTrialRig::lastSeq() {
  std::map<std::string, uint64_t> out;
  for (const auto& [id, a] : cluster_->agents()) out[id] = a.value("last_seq", 0);
  return out;
}

std::string StoreTrialRig::metric(const std::string& series) {
  auto res = httpGet(cluster_->apiPort(), "/metrics", cluster_->credentials().token("viewer"));
  if (!res.ok()) return "";
  const size_t at = res->body.find(series + " ");
  if (at == std::string::npos) return "";
  const size_t end = res->body.find('\n', at);
  return res->body.substr(at + series.size() + 1, end - at - series.size() - 1);
}

std::pair<int, std::string> StoreTrialRig::health() {
  auto h = httpGet(cluster_->apiPort(), "/v1/health");
  if (!h.ok()) return {0, h.status().toString()};
  return {h->status, h->body};
}

std::string StoreTrialRig::waitResumed(int64_t since_wall_ms, const std::string& metric_series,
                                       std::chrono::milliseconds timeout, int64_t* took_ms) {
  const auto start = std::chrono::steady_clock::now();
  const bool resumed = waitUntil([&] {
    if (health().first != 200) return false;
    for (const auto& [id, a] : cluster_->agents()) {
      if (rfc3339Ms(a["last_seen"]) < since_wall_ms + 300) return false;
    }
    return metric(metric_series) == "0";
  }, timeout, 20ms);
  *took_ms = sinceMs(start);
  if (resumed) return "";
  return "ingest did not resume within " + std::to_string(timeout.count()) + " ms";
}

void StoreTrialRig::record(TrialTally& tally, const std::string& why, int64_t recovery_ms,
                           bool verbose) const {
  if (why.empty()) {
    tally.pass(recovery_ms);
    return;
  }
  tally.fail(why);
  if (verbose) printStoreLines(dir_);
}

std::string StoreTrialRig::crashCheckAndRestart(const std::map<std::string, uint64_t>& before) {
  cluster_->killController();
  auto facts = checkStore(dataDir(), ids_, acknowledged_);
  if (!facts.ok()) return "store after kill -9: " + facts.status().toString();
  for (const auto& [id, seq] : facts->last_seq) {
    if (before.count(id) && seq < before.at(id)) {
      return id + " stored last_seq " + std::to_string(seq) + " < acknowledged " +
             std::to_string(before.at(id));
    }
  }
  const int64_t restart_ms = wallMs();
  if (!cluster_->startController(kControllerArgs).ok()) return "restart failed";
  if (!waitUntil([&] {
        auto agents = cluster_->agents();
        for (const auto& [id, a] : agents) {
          if (rfc3339Ms(a["session_started_at"]) < restart_ms || a.value("last_seq", 0) < 1) {
            return false;
          }
        }
        return agents.size() == ids_.size();
      }, 15s)) {
    return "agents not reporting after the restart";
  }
  for (const auto& id : acknowledged_) {
    if (!waitUntil([&] { return commandState(*cluster_, id) == "succeeded"; }, 15s)) {
      return "acknowledged " + id + " is " + commandState(*cluster_, id);
    }
  }
  return "";
}

}  // namespace noa::testing::faults
