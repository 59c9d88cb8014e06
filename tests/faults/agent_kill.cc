// agent-kill: one agent (kind generic) runs snapshot.create of a 24 MB tree, an action with an
// observable side effect (an artifact named by the command). Each trial kills the agent -9 at
// a random moment 0-250 ms after the command was created (queued, running, or finished with
// the result still unacknowledged), restarts it on the same state dir (command journal, result
// spool) and requires
//   - the command terminal within 30 s (succeeded, or failed with agent_restarted),
//   - at most one "command started" for it across every agent log (no second execution),
//   - exactly one artifact when it succeeded, none (and no manifest) when it failed, no .partial
//     left behind. A kill after the manifest but before the journal ends succeeded by adoption
//     (counted).

#include <filesystem>
#include <random>
#include <thread>

#include "tests/faults/trial.h"

namespace noa::testing::faults {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

size_t filesWith(const std::string& dir, const std::string& needle) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    n += e.path().filename().string().find(needle) != std::string::npos;
  }
  return n;
}

}  // namespace

Status writeTreeForSnapshots(const std::string& dir);  // controller_kill.cc

TrialTally agentKillTrials(const TrialOptions& options) {
  TrialTally tally;
  tally.kind = "agent-kill";
  tally.recovery_what = "agent restart -> command terminal";
  TempDir dir;
  const std::string source = dir.path() + "/source";
  const std::string snaps = dir.path() + "/snapshots";
  fs::create_directories(snaps);
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
  const std::vector<std::string> agent_args = {"--service", "gen", "--snapshot-dir", snaps};
  // Lost only after 10 s: the restarted agent is the command's target throughout.
  if (Status s = cluster.startController({"--lost-after", "50"}); !s.ok()) {
    tally.fail(s.toString());
    return tally;
  }
  if (Status s = cluster.startAgent("gen-1", agent_args); !s.ok() || !cluster.waitAlive("gen-1")) {
    tally.fail("agent did not come up: " + s.toString() + cluster.logs());
    return tally;
  }
  std::mt19937 rng(options.seed);
  int succeeded = 0, failed = 0, adopted = 0;
  for (int t = 0; t < options.trials; ++t) {
    const std::string name = "k" + std::to_string(t) + "-" + std::to_string(options.seed);
    auto id = createCommand(cluster, {{"action", "snapshot.create"},
                                      {"agent_id", "gen-1"},
                                      {"params", {{"source_dir", source}, {"name", name + ".tar.zst"}}}});
    if (!id.ok()) {
      tally.fail(id.status().toString());
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 250));
    const std::string state_at_kill = commandState(cluster, *id);
    cluster.killAgent("gen-1");
    const auto restart = std::chrono::steady_clock::now();
    std::string why;
    if (Status s = cluster.startAgent("gen-1", agent_args); !s.ok()) why = s.toString();
    std::string state;
    if (why.empty() &&
        !waitUntil([&] { return isTerminal(state = commandState(cluster, *id)); }, 30s, 20ms)) {
      why = *id + " not terminal 30 s after the agent restart: " + state;
    }
    const int64_t recovery = sinceMs(restart);
    const size_t starts = countLogLines(dir.path(), "agent-gen-1", "command started", *id);
    // The restarted agent removes what its predecessor left; give it a moment.
    waitUntil([&] { return filesWith(snaps, name + ".tar.zst.partial") == 0; }, 5s);
    const size_t artifacts = filesWith(snaps, name + ".tar.zst") -
                             filesWith(snaps, name + ".tar.zst.partial") -
                             filesWith(snaps, name + ".tar.zst.json");
    const size_t partials = filesWith(snaps, name + ".tar.zst.partial");
    if (why.empty() && starts > 1) why = *id + " started " + std::to_string(starts) + " times";
    if (why.empty() && state == "succeeded" && artifacts != 1) {
      why = *id + " succeeded with " + std::to_string(artifacts) + " artifacts";
    }
    // Killed after the artifact's rename but before the result reached the journal: the
    // restart adopts it (manifest written: succeeded) or removes it (no manifest: failed). A
    // failed command leaves nothing an operator would take for a backup.
    const size_t manifests = filesWith(snaps, name + ".tar.zst.json");
    if (why.empty() && state != "succeeded" && (artifacts != 0 || manifests != 0)) {
      why = *id + " " + state + " but left " + std::to_string(artifacts) + " artifact(s) and " +
            std::to_string(manifests) + " manifest(s)";
    }
    if (why.empty() && partials != 0) why = *id + " left a .partial";
    if (why.empty() && state != "succeeded") {
      auto c = cluster.getJson("/v1/commands/" + *id);
      const std::string code = c.ok() ? (*c)["result"].value("error_code", "") : "";
      if (state != "failed" || code != "agent_restarted") {
        why = *id + " ended " + state + " (" + code + "), expected agent_restarted";
      }
    }
    if (why.empty() && state == "succeeded") {
      auto c = cluster.getJson("/v1/commands/" + *id);
      if (c.ok() && (*c)["result"].dump().find("adopted_after_restart") != std::string::npos) {
        ++adopted;
      }
    }
    if (why.empty()) {
      (state == "succeeded" ? succeeded : failed)++;
      tally.pass(recovery);
    } else {
      tally.fail(why + " (state at kill: " + state_at_kill + ")");
      if (options.verbose) std::cerr << cluster.logs() << "\n";
    }
    if (options.verbose) {
      std::cerr << "agent-kill trial " << t + 1 << ": killed while " << state_at_kill << " -> "
                << state << ", " << starts << " start(s), " << recovery << " ms\n";
    }
    if (!cluster.waitAlive("gen-1", 20s)) tally.notes.push_back("agent not alive after trial " + std::to_string(t + 1));
  }
  tally.notes.push_back(std::to_string(succeeded) + " ended succeeded (killed after the run), " +
                        std::to_string(failed) + " failed agent_restarted (killed during it), " +
                        std::to_string(adopted) +
                        " succeeded by adoption (killed after the manifest, before the journal)");
  return tally;
}

}  // namespace noa::testing::faults
