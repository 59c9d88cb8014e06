#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/process/process.h"
#include "tests/faults/trial.h"

namespace noa::testing::faults {

namespace fs = std::filesystem;

std::string TrialTally::summary() const {
  std::ostringstream out;
  out << "[ trials ] " << kind << ": " << passed << "/" << trials << " passed";
  if (!recovery_what.empty()) {
    out << ", worst " << recovery_what << " " << worst_recovery_ms << " ms";
  }
  for (const auto& n : notes) out << "\n  " << n;
  for (const auto& f : failures) out << "\n  FAILED " << f;
  return out.str();
}

const std::vector<KindInfo>& allKinds() {
  static const std::vector<KindInfo> kinds = {
      {"controller-kill", controllerKillTrials,
       "kill -9 the controller during ingest and while commands run; no lost result, the store "
       "reopens, every agent reports again (<= 2 s)"},
      {"agent-kill", agentKillTrials,
       "kill -9 and restart an agent during snapshot.create; terminal state, at most one run "
       "and one artifact per command"},
      {"partition", partitionTrials,
       "cut the Redis primary's network namespace (veth, ip netns) off; it fences before the "
       "controller promotes, and its last accepted write precedes the promote"},
      {"disk-full", diskFullTrials,
       "fill the controller's store (a small tmpfs); degraded health + metric, nothing "
       "acknowledged lost, ingest resumes when space returns"},
      {"slow-disk", slowDiskTrials,
       "freeze the controller's store file system (ext4 on a loop device, fsfreeze) for 4 s; "
       "degraded health + metric while a write waits, ingest resumes at the thaw, nothing "
       "acknowledged lost"},
      {"clock-jump", clockJumpTrials,
       "move the primary agent's wall clock (libfaketime) by hours both ways; the lease holds, "
       "no fence, no failover"},
  };
  return kinds;
}

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t sinceMs(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

int64_t rfc3339Ms(const nlohmann::json& value) {
  if (!value.is_string()) return 0;
  const std::string s = value.get<std::string>();
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

Result<std::string> run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.argv = argv;
  spec.timeout = timeout;
  NOA_ASSIGN_OR_RETURN(ProcessResult r, runProcess(spec));
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
    return Status::Internal(line + " failed (exit " + std::to_string(r.exit_code) +
                            (r.timed_out ? ", timed out" : "") + "): " + r.stderr_tail);
  }
  return r.stdout_tail;
}

Result<std::string> createCommand(NoaCluster& cluster, const nlohmann::json& body) {
  NOA_ASSIGN_OR_RETURN(HttpResponse res, cluster.post("/v1/commands", body));
  if (res.status != 201) {
    return Status::Unavailable("POST /v1/commands: " + std::to_string(res.status) + " " +
                               res.body.substr(0, 300));
  }
  auto parsed = nlohmann::json::parse(res.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("id")) {
    return Status::Internal("POST /v1/commands: no id in " + res.body.substr(0, 200));
  }
  return parsed["id"].get<std::string>();
}

std::string commandState(NoaCluster& cluster, const std::string& id) {
  auto got = cluster.getJson("/v1/commands/" + id);
  return got.ok() ? got->value("state", "") : "";
}

bool isTerminal(const std::string& state) {
  return state == "succeeded" || state == "failed" || state == "timed_out" ||
         state == "cancelled";
}

size_t countLogLines(const std::string& dir, const std::string& prefix,
                     const std::string& needle, const std::string& and_needle) {
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos && line.find(and_needle) != std::string::npos;
  }
  return n;
}

int64_t firstLogTime(const std::string& dir, const std::string& prefix, const std::string& needle,
                     int64_t since_ms) {
  int64_t best = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      if (line.find(needle) == std::string::npos) continue;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      const int64_t at = j.is_object() ? rfc3339Ms(j["ts"]) : 0;
      if (at >= since_ms && (best == 0 || at < best)) best = at;
    }
  }
  return best;
}

}  // namespace noa::testing::faults
