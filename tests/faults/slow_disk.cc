// slow-disk: the controller's store on its own ext4 (a 96 MB image on a loop device; needs
// root), 3 agents reporting every 200 ms. The kernel here has no device-mapper (no dm-delay)
// and cgroup v1 does not throttle buffered writes, so "slow" is the extreme case: the file
// system frozen (fsfreeze), every write and fsync blocked until the thaw. Each trial:
//   before   a ping succeeds; each agent's last_seq (REST);
//   freeze   fsfreeze --freeze for 4 s: /v1/health answers 503 "degraded" naming the slow or
//            frozen disk (a write waiting over 2 s, controller/store/rocks_store.cc) and
//            noa_store_degraded{reason="slow"} is 1, while the ingest thread is stuck in it;
//   thaw     health 200 and every agent's reports stored again within 10 s, the metric 0, a
//            new ping succeeds;
//   crash    kill -9, reopen the store: every acknowledged command is there, no agent's stored
//            last_seq went back; restarted, all report.
// Recovery time: thaw -> health 200 with every agent's reports stored again.

#include <filesystem>
#include <thread>

#include "tests/faults/store_trial.h"

namespace noa::testing::faults {
namespace {

using namespace std::chrono_literals;

// An ext4 image on a loop device mounted on `path`; frozen and thawed on request, always thawed,
// unmounted and detached at the end (a frozen file system would hang every later umount).
class LoopExt4 {
 public:
  static Result<std::unique_ptr<LoopExt4>> mount(const std::string& image, const std::string& path) {
    NOA_RETURN_IF_ERROR(run({"truncate", "-s", "96M", image}).status());
    NOA_RETURN_IF_ERROR(run({"mkfs.ext4", "-q", "-F", image}).status());
    NOA_ASSIGN_OR_RETURN(std::string device, run({"losetup", "--find", "--show", image}));
    while (!device.empty() && (device.back() == '\n' || device.back() == ' ')) device.pop_back();
    std::unique_ptr<LoopExt4> fs(new LoopExt4(device, path));
    std::filesystem::create_directories(path);
    NOA_RETURN_IF_ERROR(run({"mount", "-t", "ext4", device, path}).status());
    fs->mounted_ = true;
    return fs;
  }
  Status freeze() {
    NOA_RETURN_IF_ERROR(run({"fsfreeze", "--freeze", path_}).status());
    frozen_ = true;
    return Status::Ok();
  }
  Status thaw() {
    if (!frozen_) return Status::Ok();
    NOA_RETURN_IF_ERROR(run({"fsfreeze", "--unfreeze", path_}).status());
    frozen_ = false;
    return Status::Ok();
  }
  ~LoopExt4() {
    (void)thaw();
    if (mounted_ && !run({"umount", path_}).ok()) (void)run({"umount", "-l", path_});
    (void)run({"losetup", "-d", device_});
  }

 private:
  LoopExt4(std::string device, std::string path) : device_(std::move(device)), path_(std::move(path)) {}
  std::string device_;
  std::string path_;
  bool mounted_ = false;
  bool frozen_ = false;
};

}  // namespace

TrialTally slowDiskTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "slow-disk";
  tally.recovery_what = "thaw -> reports stored again";
  TempDir dir;
  auto disk = LoopExt4::mount(dir.path() + "/store.img", dir.path() + "/data");
  if (!disk.ok()) {
    tally.fail("cannot set up the loop-mounted ext4: " + disk.status().toString());
    return tally;
  }
  auto started = StoreTrialRig::start(dir.path(), options);
  if (!started.ok()) {
    tally.fail(started.status().toString());
    return tally;
  }
  StoreTrialRig& rig = **started;
  for (int t = 0; t < options.trials; ++t) {
    std::string why = rig.pingSucceeds();
    const auto before = rig.lastSeq();
    if (Status frozen = (*disk)->freeze(); why.empty() && !frozen.ok()) why = frozen.toString();
    const auto frozen_at = std::chrono::steady_clock::now();
    std::string health_body;
    const bool degraded = waitUntil([&] {
      auto [status, body] = rig.health();
      health_body = body;
      return status == 503;
    }, 4s, 50ms);
    if (why.empty() && !degraded) why = "health not 503 within 4 s of freezing the store's disk";
    if (why.empty() && health_body.find("slow or frozen") == std::string::npos) {
      why = "health does not name the slow disk: " + health_body.substr(0, 300);
    }
    if (why.empty() && rig.metric("noa_store_degraded{reason=\"slow\"}") != "1") {
      why = "noa_store_degraded{reason=\"slow\"} is not 1";
    }
    std::this_thread::sleep_until(frozen_at + 4s);
    if (Status thawed = (*disk)->thaw(); why.empty() && !thawed.ok()) why = thawed.toString();
    int64_t recovery = 0;
    const std::string resumed =
        rig.waitResumed(wallMs(), "noa_store_degraded{reason=\"slow\"}", 10s, &recovery);
    if (why.empty()) why = resumed.empty() ? rig.pingSucceeds() : resumed + " of the thaw";
    const std::string after_crash = rig.crashCheckAndRestart(before);
    if (why.empty()) why = after_crash;
    if (options.verbose) {
      std::cerr << "slow-disk trial " << t + 1 << ": resumed " << recovery << " ms after the thaw"
                << (why.empty() ? "" : ": " + why) << "\n";
    }
    rig.record(tally, why, recovery, options.verbose);
  }
  rig.stop();  // processes before the file system goes
  return tally;
}

}  // namespace noa::testing::faults
