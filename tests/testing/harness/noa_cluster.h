#pragma once

// A real noa-controller and real noa-agent processes for integration tests, with security on
// as in production (TestCredentials: REST tokens, CURVE keys enrolled through the allowlist),
// on free loopback ports. Every process is killed by PID when the cluster goes away, also
// when the test fails; logs() prints what each wrote, for a failing test's output.
//
//   auto cluster = NoaCluster::create(dir.path(), {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN});
//   ASSERT_OK(cluster->startController());
//   ASSERT_OK(cluster->startAgent("pg-1", {"--service", "postgres", "--kind", "postgres", ...}));
//   cluster->waitAlive("pg-1");

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"

namespace noa::testing {

struct NoaBinaries {
  std::string controller;
  std::string agent;
  std::string noactl;
};

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

class NoaCluster {
 public:
  // Credentials under <dir>/credentials, the store in <dir>/data, logs in <dir>.
  static Result<std::unique_ptr<NoaCluster>> create(const std::string& dir, NoaBinaries binaries,
                                                    std::string report_interval = "200ms",
                                                    std::string log_level = "debug");
  ~NoaCluster();

  // Starts (or restarts, on the same ports and store) the controller and waits for its REST API.
  Status startController(const std::vector<std::string>& extra_args = {});
  void killController();  // SIGKILL (a crash)
  int stopController();   // SIGTERM; the exit code
  ChildProcess* controller() { return controller_.get(); }

  // Starts agent `agent_id` with its key enrolled; `args` name the service etc. Restarting an
  // agent of the same id keeps its state dir (key, command journal, spool).
  Status startAgent(const std::string& agent_id, const std::vector<std::string>& args,
                    const std::string& log_suffix = "");
  void killAgent(const std::string& agent_id);  // SIGKILL
  // The agent's --controller endpoint from its next start on (a TcpProxy's, for partitions).
  void setAgentController(const std::string& agent_id, const std::string& endpoint) {
    agent_controller_[agent_id] = endpoint;
  }
  // Words run before the agent binary from its next start on, e.g. {"ip", "netns", "exec", NS}
  // or {"env", "LD_PRELOAD=..."}: each must exec the next, so the PID stays the agent's.
  void setAgentPrefix(const std::string& agent_id, std::vector<std::string> prefix) {
    agent_prefix_[agent_id] = std::move(prefix);
  }
  // The controller's --listen host (default 127.0.0.1; a namespace's 10.x address for
  // partitions). Also the agents' default --controller host. Before startController().
  void setListenHost(std::string host) { listen_host_ = std::move(host); }
  ChildProcess* agent(const std::string& agent_id);
  std::string agentStateDir(const std::string& agent_id) const;

  // GET /v1/agents as a map by id (empty when the controller does not answer).
  std::map<std::string, nlohmann::json> agents();
  bool isAlive(const std::string& agent_id);
  bool waitAlive(const std::string& agent_id,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20));

  Result<nlohmann::json> getJson(const std::string& path, const std::string& role = "viewer");
  Result<HttpResponse> post(const std::string& path, const nlohmann::json& body,
                            const std::string& role = "operator");
  // Runs noactl with the role's token and the controller's URL; stdout and stderr apart.
  CliRun noactl(const std::vector<std::string>& args, const std::string& role = "operator",
                std::chrono::milliseconds timeout = std::chrono::seconds(60));

  int apiPort() const { return api_port_; }
  int zmqPort() const { return zmq_port_; }
  const TestCredentials& credentials() const { return creds_; }
  // The tail of every process's log, for failure output.
  std::string logs(size_t bytes_each = 3000) const;

 private:
  std::map<std::string, std::string> agent_controller_;
  std::map<std::string, std::vector<std::string>> agent_prefix_;
  std::string listen_host_ = "127.0.0.1";
  NoaCluster(std::string dir, NoaBinaries binaries, std::string report_interval,
             std::string log_level)
      : dir_(std::move(dir)),
        binaries_(std::move(binaries)),
        report_interval_(std::move(report_interval)),
        log_level_(std::move(log_level)) {}

  std::string dir_;
  NoaBinaries binaries_;
  std::string report_interval_;
  std::string log_level_;
  TestCredentials creds_;
  int api_port_ = 0;
  int zmq_port_ = 0;
  int controller_starts_ = 0;
  std::unique_ptr<ChildProcess> controller_;
  std::map<std::string, std::unique_ptr<ChildProcess>> agents_;
  std::map<std::string, int> agent_starts_;
};

}  // namespace noa::testing
