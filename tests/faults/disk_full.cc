// disk-full: the controller's store on its own small tmpfs (mount -t tmpfs -o size=8m;
// needs root), 3 agents reporting every 200 ms. Each trial:
//   before   a ping succeeds; each agent's last_seq as stored (acknowledged reports);
//   fill     a filler file takes every free byte: /v1/health answers 503 "degraded" with the
//            store error saying there is no space, noa_store_degraded{reason="no_space"} is 1,
//            the log says so, and a new command is refused with a clear 503 (not acknowledged);
//   free     the filler is removed: health 200 and reports stored again (the store resumes by
//            itself, controller/store/rocks_store.cc) within 15 s, a new ping succeeds;
//   crash    kill -9, reopen the store: every acknowledged command is there and every agent's
//            stored last_seq is at least what it was before the fill; restarted, all report.
// Recovery time: filler removed -> health 200 with every agent's reports stored again.

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/faults/store_check.h"
#include "tests/faults/trial.h"

namespace noa::testing::faults {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kAgents = 3;
const std::vector<std::string> kControllerArgs = {"--lost-after", "50"};
std::string agentId(int i) { return "disk-" + std::to_string(i + 1); }

// A tmpfs mounted on `path` for the scope's life (unmounted, lazily if busy, at the end).
class TmpfsMount {
 public:
  static Result<std::unique_ptr<TmpfsMount>> mount(const std::string& path, const std::string& size) {
    fs::create_directories(path);
    NOA_RETURN_IF_ERROR(run({"mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", path}).status());
    return std::unique_ptr<TmpfsMount>(new TmpfsMount(path));
  }
  ~TmpfsMount() {
    if (!run({"umount", path_}).ok()) (void)run({"umount", "-l", path_});
  }

 private:
  explicit TmpfsMount(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Writes until the file system refuses (ENOSPC); the bytes written.
Result<size_t> fill(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("open " + path);
  std::string chunk(1 << 20, 'x');
  size_t total = 0;
  for (size_t size = chunk.size(); size >= 512;) {
    const ssize_t n = ::write(fd, chunk.data(), size);
    if (n > 0) total += static_cast<size_t>(n);
    else if (errno == ENOSPC || n == 0) size /= 2;  // the last pages too
    else break;
  }
  ::fsync(fd);
  ::close(fd);
  return total;
}

std::map<std::string, uint64_t> lastSeq(NoaCluster& cluster) {
  std::map<std::string, uint64_t> out;
  for (const auto& [id, a] : cluster.agents()) out[id] = a.value("last_seq", 0);
  return out;
}

std::string metric(NoaCluster& cluster, const std::string& series) {
  auto res = httpGet(cluster.apiPort(), "/metrics", cluster.credentials().token("viewer"));
  if (!res.ok()) return "";
  const size_t at = res->body.find(series + " ");
  if (at == std::string::npos) return "";
  const size_t end = res->body.find('\n', at);
  return res->body.substr(at + series.size() + 1, end - at - series.size() - 1);
}

std::string pingSucceeds(NoaCluster& cluster, std::vector<std::string>& acknowledged) {
  auto id = createCommand(cluster, {{"action", "ping"}, {"agent_id", agentId(0)}});
  if (!id.ok()) return "ping refused: " + id.status().toString();
  acknowledged.push_back(*id);
  if (!waitUntil([&] { return commandState(cluster, *id) == "succeeded"; }, 15s)) {
    return "ping " + *id + " not succeeded: " + commandState(cluster, *id);
  }
  return "";
}

}  // namespace

TrialTally diskFullTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "disk-full";
  tally.recovery_what = "space back -> reports stored again";
  TempDir dir;
  const std::string data = dir.path() + "/data";
  // The MANIFEST preallocates 4 MB; what is left is smaller than the WAL's preallocation block
  // (1.1 x the 4 MB write buffer, controller/store/rocks_util.cc), so that fallocate fails (and
  // is ignored) and a full disk is seen by the next WAL append rather than megabytes later.
  auto mounted = TmpfsMount::mount(data, "8m");
  if (!mounted.ok()) {
    tally.fail(mounted.status().toString());
    return tally;
  }
  auto created = NoaCluster::create(dir.path(), options.binaries, "200ms", "info");
  if (!created.ok() || !(*created)->startController(kControllerArgs).ok()) {
    tally.fail("controller did not start");
    return tally;
  }
  NoaCluster& cluster = **created;
  std::vector<std::string> ids;
  for (int i = 0; i < kAgents; ++i) {
    ids.push_back(agentId(i));
    if (!cluster.startAgent(agentId(i), {"--service", "disk"}).ok() || !cluster.waitAlive(agentId(i))) {
      tally.fail("agent did not come up" + cluster.logs());
      return tally;
    }
  }
  std::vector<std::string> acknowledged;
  const std::string filler = data + "/filler";
  for (int t = 0; t < options.trials; ++t) {
    std::string why = pingSucceeds(cluster, acknowledged);
    const auto before = lastSeq(cluster);
    auto filled = fill(filler);
    if (why.empty() && !filled.ok()) why = filled.status().toString();
    // Degraded, saying why, in health, metric and log.
    std::string health_body;
    const bool degraded = waitUntil([&] {
      auto h = httpGet(cluster.apiPort(), "/v1/health");
      if (!h.ok() || h->status != 503) return false;
      health_body = h->body;
      return true;
    }, 15s);
    if (why.empty() && !degraded) why = "health never 503 with the store full";
    if (why.empty() && health_body.find("No space") == std::string::npos &&
        health_body.find("space") == std::string::npos) {
      why = "health does not say the disk is full: " + health_body.substr(0, 300);
    }
    if (why.empty() && metric(cluster, "noa_store_degraded{reason=\"no_space\"}") != "1") {
      why = "noa_store_degraded{reason=\"no_space\"} is not 1";
    }
    if (why.empty() && countLogLines(dir.path(), "controller-", "store write failed") == 0) {
      why = "no log line says the store write failed";
    }
    // A command now is refused, clearly, and so never acknowledged.
    if (why.empty()) {
      auto res = cluster.post("/v1/commands", {{"action", "ping"}, {"agent_id", agentId(0)}});
      if (res.ok() && res->status == 201) {
        acknowledged.push_back(json::parse(res->body).value("id", ""));
        tally.notes.push_back("trial " + std::to_string(t + 1) + ": a command was accepted on a full disk");
      } else if (!res.ok() || res->status < 500 || res->body.find("space") == std::string::npos) {
        why = "a command on a full disk got " + (res.ok() ? std::to_string(res->status) + " " + res->body.substr(0, 200) : res.status().toString());
      }
    }
    std::this_thread::sleep_for(1s);  // ingest keeps failing meanwhile
    std::error_code ec;
    fs::remove(filler, ec);
    const auto freed = std::chrono::steady_clock::now();
    const int64_t freed_ms = wallMs();
    const bool resumed = waitUntil([&] {
      auto h = httpGet(cluster.apiPort(), "/v1/health");
      if (!h.ok() || h->status != 200) return false;
      for (const auto& [id, a] : cluster.agents()) {
        if (rfc3339Ms(a["last_seen"]) < freed_ms + 300) return false;
      }
      return metric(cluster, "noa_store_degraded{reason=\"no_space\"}") == "0";
    }, 15s, 20ms);
    const int64_t recovery = sinceMs(freed);
    if (why.empty() && !resumed) why = "ingest did not resume within 15 s of freeing space";
    if (why.empty()) why = pingSucceeds(cluster, acknowledged);
    // Crash now: what was acknowledged must be on disk.
    cluster.killController();
    if (why.empty()) {
      auto facts = checkStore(data, ids, acknowledged);
      if (!facts.ok()) {
        why = "store after kill -9: " + facts.status().toString();
      } else {
        for (const auto& [id, seq] : facts->last_seq) {
          if (before.count(id) && seq < before.at(id)) {
            why = id + " stored last_seq " + std::to_string(seq) + " < acknowledged " +
                  std::to_string(before.at(id));
          }
        }
      }
    }
    const int64_t restart_ms = wallMs();
    if (!cluster.startController(kControllerArgs).ok() && why.empty()) why = "restart failed";
    if (why.empty() && !waitUntil([&] {
          for (const auto& [id, a] : cluster.agents()) {
            if (rfc3339Ms(a["session_started_at"]) < restart_ms || a.value("last_seq", 0) < 1) return false;
          }
          return cluster.agents().size() == kAgents;
        }, 15s)) {
      why = "agents not reporting after the restart";
    }
    for (const auto& id : acknowledged) {
      if (why.empty() && !waitUntil([&] { return commandState(cluster, id) == "succeeded"; }, 15s)) {
        why = "acknowledged " + id + " is " + commandState(cluster, id);
      }
    }
    if (options.verbose) {
      std::cerr << "disk-full trial " << t + 1 << ": filled " << (filled.ok() ? *filled >> 20 : 0)
                << " MB, resumed " << recovery << " ms after freeing" << (why.empty() ? "" : ": " + why) << "\n";
    }
    if (why.empty()) {
      tally.pass(recovery);
    } else {
      tally.fail(why);
      if (options.verbose) {
        // What the store said, from every controller log (the tails are all refusals).
        for (const auto& e : fs::directory_iterator(dir.path())) {
          if (e.path().filename().string().rfind("controller-", 0) != 0) continue;
          std::ifstream in(e.path());
          for (std::string line; std::getline(in, line);) {
            if (line.find("store") != std::string::npos && line.find("refused") == std::string::npos) {
              std::cerr << line.substr(0, 400) << "\n";
            }
          }
        }
      }
    }
  }
  // Processes before the mount goes.
  created->reset();
  return tally;
}

}  // namespace noa::testing::faults
