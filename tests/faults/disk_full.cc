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

#include "tests/faults/store_trial.h"

namespace noa::testing::faults {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

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

}  // namespace

TrialTally diskFullTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "disk-full";
  tally.recovery_what = "space back -> reports stored again";
  TempDir dir;
  const std::string data = dir.path() + "/data";
  // The MANIFEST preallocates 4 MB; what is left is smaller than the WAL's preallocation block
  // (1.1 x the largest write buffer, 32 MB, controller/store/rocks_util.cc), so that fallocate
  // fails (and is ignored) and a full disk is seen by the next WAL append, not megabytes later.
  auto mounted = TmpfsMount::mount(data, "8m");
  if (!mounted.ok()) {
    tally.fail(mounted.status().toString());
    return tally;
  }
  auto started = StoreTrialRig::start(dir.path(), options);
  if (!started.ok()) {
    tally.fail(started.status().toString());
    return tally;
  }
  StoreTrialRig& rig = **started;
  NoaCluster& cluster = rig.cluster();
  const std::string filler = data + "/filler";
  for (int t = 0; t < options.trials; ++t) {
    std::string why = rig.pingSucceeds();
    const auto before = rig.lastSeq();
    auto filled = fill(filler);
    if (why.empty() && !filled.ok()) why = filled.status().toString();
    // Degraded, saying why, in health, metric and log.
    std::string health_body;
    const bool degraded = waitUntil([&] {
      auto [status, body] = rig.health();
      health_body = body;
      return status == 503;
    }, 15s);
    if (why.empty() && !degraded) why = "health never 503 with the store full";
    if (why.empty() && health_body.find("space") == std::string::npos) {
      why = "health does not say the disk is full: " + health_body.substr(0, 300);
    }
    if (why.empty() && rig.metric("noa_store_degraded{reason=\"no_space\"}") != "1") {
      why = "noa_store_degraded{reason=\"no_space\"} is not 1";
    }
    if (why.empty() && countLogLines(dir.path(), "controller-", "store write failed") == 0) {
      why = "no log line says the store write failed";
    }
    // A command now is refused, clearly, and so never acknowledged.
    if (why.empty()) {
      auto res = cluster.post("/v1/commands", {{"action", "ping"}, {"agent_id", "store-1"}});
      if (res.ok() && res->status == 201) {
        rig.acknowledged().push_back(json::parse(res->body).value("id", ""));
        tally.notes.push_back("trial " + std::to_string(t + 1) + ": a command was accepted on a full disk");
      } else if (!res.ok() || res->status < 500 || res->body.find("space") == std::string::npos) {
        why = "a command on a full disk got " + (res.ok() ? std::to_string(res->status) + " " + res->body.substr(0, 200) : res.status().toString());
      }
    }
    std::this_thread::sleep_for(1s);  // ingest keeps failing meanwhile
    std::error_code ec;
    fs::remove(filler, ec);
    int64_t recovery = 0;
    const std::string resumed =
        rig.waitResumed(wallMs(), "noa_store_degraded{reason=\"no_space\"}", 15s, &recovery);
    if (why.empty()) why = resumed.empty() ? rig.pingSucceeds() : resumed + " of freeing space";
    // Crash now: what was acknowledged must be on disk.
    const std::string after_crash = rig.crashCheckAndRestart(before);
    if (why.empty()) why = after_crash;
    if (options.verbose) {
      std::cerr << "disk-full trial " << t + 1 << ": filled " << (filled.ok() ? *filled >> 20 : 0)
                << " MB, resumed " << recovery << " ms after freeing" << (why.empty() ? "" : ": " + why) << "\n";
    }
    rig.record(tally, why, recovery, options.verbose);
  }
  // Processes before the mount goes.
  rig.stop();
  return tally;
}

}  // namespace noa::testing::faults
