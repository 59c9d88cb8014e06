// Command round trip for a no-op action (ping) on loopback, with security on as in production:
// a real noa-controller and one real noa-agent (CURVE), REST with a bearer token.
//   rest   POST /v1/commands, then GET /v1/commands/{id}?wait=5s until it answers "succeeded":
//          what any client sees, from the request leaving to the stored result coming back
//   noactl `noactl run ping --agent bench-1 --wait` as a process (adds exec and TLS-less HTTP
//          connection setup: what an operator sees)
// Prints p50 / p99 / max in milliseconds. Target (issue 5): p99 <= 5 ms on loopback.
//
//   build/tests/bench/noa_command_bench [--rounds 500] [--cli-rounds 50]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tests/testing/harness/noa_cluster.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

void print(const char* what, const std::vector<double>& ms) {
  std::printf("%-8s n=%-5zu p50 %7.2f ms   p99 %7.2f ms   max %7.2f ms\n", what, ms.size(),
              percentile(ms, 0.50), percentile(ms, 0.99), percentile(ms, 1.0));
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 500;
  int cli_rounds = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--cli-rounds") == 0) cli_rounds = std::atoi(argv[i + 1]);
  }
  noa::testing::TempDir dir;
  auto cluster = noa::testing::NoaCluster::create(
      dir.path(), {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN}, "1s", "warn");
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().toString().c_str());
    return 1;
  }
  auto& c = **cluster;
  // The audit log syncs every mutating call and the rate limit would throttle the loop: lift the
  // limit (the sync stays, as in production).
  if (auto s = c.startController({"--api-rate-limit", "100000", "--api-rate-burst", "100000"});
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.toString().c_str());
    return 1;
  }
  if (auto s = c.startAgent("bench-1", {"--service", "bench", "--kind", "generic"});
      !s.ok() || !c.waitAlive("bench-1")) {
    std::fprintf(stderr, "agent did not register\n%s\n", c.logs().c_str());
    return 1;
  }
  const std::string token = c.credentials().token("operator");
  const nlohmann::json body = {{"action", "ping"}, {"agent_id", "bench-1"}};
  std::vector<double> rest_ms;
  int failures = 0;
  for (int i = 0; i < rounds + 20; ++i) {
    const auto start = Clock::now();
    auto created = noa::testing::httpPost(c.apiPort(), "/v1/commands", body.dump(), token);
    if (!created.ok() || created->status != 201) {
      ++failures;
      continue;
    }
    const std::string id = nlohmann::json::parse(created->body)["id"];
    auto done = noa::testing::httpGetJson(c.apiPort(), "/v1/commands/" + id + "?wait=5s", token);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (!done.ok() || (*done)["state"] != "succeeded") {
      ++failures;
      continue;
    }
    if (i >= 20) rest_ms.push_back(ms);  // the first ones warm caches and connections
  }
  std::vector<double> cli_ms;
  for (int i = 0; i < cli_rounds; ++i) {
    const auto start = Clock::now();
    noa::testing::CliRun run = c.noactl({"run", "ping", "--agent", "bench-1", "--wait"});
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (run.code != 0) {
      ++failures;
      continue;
    }
    cli_ms.push_back(ms);
  }
  std::printf("command round trip, ping, controller + 1 agent on loopback (CURVE, bearer token)\n");
  print("rest", rest_ms);
  print("noactl", cli_ms);
  std::printf("failures %d\n", failures);
  return failures == 0 ? 0 : 1;
}
