// partition: Redis master + 2 replicas, each with its agent in its own network namespace
// (netns.h), the controller in the hub. A trial waits until the cluster is settled (a primary
// holding the lease, both replicas linked to it), starts a writer *inside* the primary's
// namespace (a client on its side of the partition, writing through loopback), cuts the
// primary's link and requires
//   - the controller promotes another member (within 30 s),
//   - the old primary's agent fenced it (its log: "redis fenced") before the promote decision,
//   - the old primary's last acknowledged write (the writer's wall time after the reply) is
//     before the promote decision's time: never two primaries taking writes,
// then heals the link and waits for the old primary to follow the new one (the next trial
// partitions whichever member is primary then). Times are all CLOCK_REALTIME of this machine.

#include <filesystem>
#include <fstream>
#include <memory>

#include "tests/faults/netns.h"
#include "tests/faults/redis_node.h"
#include "tests/faults/trial.h"

namespace noa::testing::faults {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kNodes = 3;
constexpr int kRedisPort = 6379;  // every namespace has its own ports
const char* const kService = "cache";

std::string member(int i) { return "redis-" + std::to_string(i); }
int indexOf(const std::string& m) { return m.size() > 6 ? std::atoi(m.c_str() + 6) : 0; }

std::string primaryNow(NoaCluster& cluster) {
  auto body = cluster.getJson(std::string("/v1/services/") + kService + "/primary");
  return body.ok() ? body->value("member", "") : "";
}

// The earliest `action` decision for the service at or after since_ms (0 when none).
int64_t decisionAt(NoaCluster& cluster, const std::string& action, int64_t since_ms) {
  auto body = cluster.getJson(std::string("/v1/decisions?service=") + kService + "&limit=1000");
  int64_t best = 0;
  if (!body.ok() || !body->contains("decisions")) return 0;
  for (const auto& d : (*body)["decisions"]) {
    if (d.value("action", "") != action) continue;
    const int64_t at = rfc3339Ms(d["at"]);
    if (at >= since_ms && (best == 0 || at < best)) best = at;
  }
  return best;
}

class PartitionLab {
 public:
  explicit PartitionLab(const TrialOptions& options) : options_(options) {}
  ~PartitionLab() {
    // Processes before namespaces: the agents first, then the servers, then the controller.
    cluster_.reset();
    servers_.clear();
    lab_.reset();
  }

  Status setUp() {
    NOA_ASSIGN_OR_RETURN(lab_, NetLab::create(kNodes));
    NOA_RETURN_IF_ERROR(lab_->enterHub());
    for (int i = 1; i <= kNodes; ++i) NOA_RETURN_IF_ERROR(startRedis(i));
    NOA_ASSIGN_OR_RETURN(cluster_, NoaCluster::create(dir_.path(), options_.binaries, "200ms", "info"));
    cluster_->setListenHost(NetLab::controllerAddress());
    NOA_RETURN_IF_ERROR(cluster_->startController());
    for (int i = 1; i <= kNodes; ++i) {
      cluster_->setAgentPrefix(member(i), lab_->execIn(i));
      NOA_RETURN_IF_ERROR(cluster_->startAgent(
          member(i), {"--service", kService, "--kind", "redis", "--service-host",
                      NetLab::nodeAddress(i), "--service-port", std::to_string(kRedisPort)}));
    }
    return Status::Ok();
  }

  // A primary holding its lease, every agent alive, both others replicating from it.
  std::string settled(std::chrono::milliseconds timeout) {
    std::string p;
    const bool ok = waitUntil([&] {
      p = primaryNow(*cluster_);
      if (p.empty()) return false;
      auto f = cluster_->getJson(std::string("/v1/services/") + kService + "/failover");
      if (!f.ok() || f->value("lease_valid", false) != true || !(*f)["transition"].is_null()) {
        return false;
      }
      for (int i = 1; i <= kNodes; ++i) {
        if (!cluster_->isAlive(member(i))) return false;
        if (i == indexOf(p)) continue;
        const std::string host = NetLab::nodeAddress(i);
        if (redisInfoField(host, kRedisPort, "master_host") != NetLab::nodeAddress(indexOf(p)) ||
            redisInfoField(host, kRedisPort, "master_link_status") != "up") {
          return false;
        }
      }
      return true;
    }, timeout, 100ms);
    return ok ? p : "";
  }

  NoaCluster& cluster() { return *cluster_; }
  NetLab& lab() { return *lab_; }
  const std::string& dir() const { return dir_.path(); }

 private:
  Status startRedis(int i) {
    const std::string data = dir_.path() + "/redis-" + std::to_string(i);
    fs::create_directories(data);
    NOA_RETURN_IF_ERROR(run({"chown", "redis:redis", data}).status());
    std::vector<std::string> argv = lab_->execIn(i);
    // setpriv execs too, so the PID is redis-server's: it is stopped by PID like every server.
    for (const char* w : {"setpriv", "--reuid", "redis", "--regid", "redis", "--init-groups",
                          "redis-server", "--port"}) {
      argv.push_back(w);
    }
    argv.push_back(std::to_string(kRedisPort));
    for (const std::string& w :
         {std::string("--bind"), "127.0.0.1 " + NetLab::nodeAddress(i), std::string("--save"),
          std::string(""), std::string("--appendonly"), std::string("no"),
          std::string("--protected-mode"), std::string("no"), std::string("--dir"), data}) {
      argv.push_back(w);
    }
    if (i != 1) {
      argv.insert(argv.end(), {"--replicaof", NetLab::nodeAddress(1), std::to_string(kRedisPort)});
    }
    NOA_ASSIGN_OR_RETURN(auto p, ChildProcess::start(argv, data + ".log"));
    servers_.push_back(std::move(p));
    if (!waitUntil([&] { bool ok = false; redisCall(NetLab::nodeAddress(i), kRedisPort, "PING", &ok); return ok; }, 15s)) {
      return Status::Unavailable("redis " + std::to_string(i) + " did not start: " +
                                 servers_.back()->logTail());
    }
    return Status::Ok();
  }

  const TrialOptions& options_;
  TempDir dir_;
  std::unique_ptr<NetLab> lab_;
  std::vector<std::unique_ptr<ChildProcess>> servers_;
  std::unique_ptr<NoaCluster> cluster_;
};

void runPartitionTrials(const TrialOptions& options, TrialTally& tally) {
  PartitionLab lab(options);
  if (Status s = lab.setUp(); !s.ok()) {
    tally.fail("setup: " + s.toString());
    return;
  }
  NoaCluster& cluster = lab.cluster();
  int64_t best_margin = -1, worst_margin = 0, lost_writes = 0;
  for (int t = 0; t < options.trials; ++t) {
    if (ChildProcess* c = cluster.controller(); c != nullptr && !c->running()) {
      (void)cluster.startController();
    }
    const std::string p = lab.settled(90s);
    if (p.empty()) {
      auto state = cluster.getJson("/v1/services/cache/failover");
      tally.fail("not settled within 90 s: " + (state.ok() ? state->dump() : state.status().toString()));
      if (options.verbose) std::cerr << cluster.logs() << "\n";
      continue;
    }
    const int pi = indexOf(p);
    std::string why;
    auto writer = std::make_unique<RedisWriter>("127.0.0.1", kRedisPort,
                                                [&lab, pi] { return lab.lab().enterNode(pi); });
    if (!waitUntil([&] { return writer->acked() >= 20; }, 10s)) why = "the writer never wrote to " + p;
    const int64_t cut_ms = wallMs();
    const int64_t acked_at_cut = writer->acked();
    if (Status s = lab.lab().cut(pi); !s.ok() && why.empty()) why = "cut: " + s.toString();
    std::string promoted;
    if (why.empty() && !waitUntil([&] {
          promoted = primaryNow(cluster);
          return !promoted.empty() && promoted != p;
        }, 30s)) {
      why = "no promotion within 30 s of cutting " + p;
    }
    std::this_thread::sleep_for(500ms);  // a write the old primary still took would show now
    writer->stop();
    const int64_t last_ok = writer->lastOkMs();
    const int64_t after_cut = writer->acked() - acked_at_cut;
    const int64_t promote_ms = decisionAt(cluster, "promote", cut_ms);
    const int64_t fence_ms = firstLogTime(lab.dir(), "agent-" + p + "-", "redis fenced", cut_ms);
    if (why.empty() && promote_ms == 0) why = "no promote decision recorded after the cut";
    if (why.empty() && fence_ms == 0) why = p + "'s agent logged no fence after the cut";
    if (why.empty() && fence_ms > promote_ms) {
      why = p + " fenced at +" + std::to_string(fence_ms - cut_ms) + " ms, after the promote at +" +
            std::to_string(promote_ms - cut_ms) + " ms";
    }
    if (why.empty() && last_ok >= promote_ms) {
      why = p + " acknowledged a write at +" + std::to_string(last_ok - cut_ms) +
            " ms, not before the promote at +" + std::to_string(promote_ms - cut_ms) + " ms";
    }
    if (Status s = lab.lab().heal(pi); !s.ok() && why.empty()) why = "heal: " + s.toString();
    // The old primary follows the new one once it is reachable again.
    if (why.empty() && !waitUntil([&] {
          return redisInfoField(NetLab::nodeAddress(pi), kRedisPort, "master_host") ==
                     NetLab::nodeAddress(indexOf(promoted)) &&
                 redisInfoField(NetLab::nodeAddress(pi), kRedisPort, "master_link_status") == "up";
        }, 60s)) {
      why = "old primary " + p + " did not follow " + promoted + " within 60 s of the heal";
    }
    // A controller that died (libzmq asserts seen here, README "Findings") is restarted as a
    // supervisor would; the trial it died in fails with its last words.
    if (ChildProcess* c = cluster.controller(); c != nullptr && !c->running()) {
      std::string tail = c->logTail(400);
      why = "the controller exited during the trial: " + tail.substr(tail.rfind('\n', tail.size() - 2) + 1);
      if (Status s = cluster.startController(); !s.ok()) why += "; restart failed: " + s.toString();
    }
    if (options.verbose) {
      std::cerr << "partition trial " << t + 1 << ": " << p << " cut; fenced +" << fence_ms - cut_ms
                << " ms, last write +" << last_ok - cut_ms << " ms, promote " << promoted << " +"
                << promote_ms - cut_ms << " ms" << (why.empty() ? "" : ": " + why) << "\n";
    }
    if (!why.empty()) {
      tally.fail(why);
      if (options.verbose) std::cerr << cluster.logs() << "\n";
      continue;
    }
    const int64_t margin = promote_ms - last_ok;
    if (best_margin < 0 || margin < best_margin) best_margin = margin;
    worst_margin = std::max(worst_margin, margin);
    lost_writes += after_cut;
    tally.pass(promote_ms - cut_ms);
  }
  if (best_margin >= 0) {
    tally.notes.push_back("smallest gap old primary's last acknowledged write -> promote: " +
                          std::to_string(best_margin) + " ms (largest " +
                          std::to_string(worst_margin) + " ms)");
    tally.notes.push_back(std::to_string(lost_writes) +
                          " writes acknowledged by partitioned primaries after the cut, before "
                          "their fence (asynchronous replication: gone once they follow)");
  }
}

}  // namespace

TrialTally partitionTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "partition";
  tally.recovery_what = "cut -> promote decision";
  // Its own thread: entering the hub namespace must not move the caller (a gtest main thread
  // running other tests afterwards).
  std::thread worker([&] { runPartitionTrials(options, tally); });
  worker.join();
  return tally;
}

}  // namespace noa::testing::faults
