// Autoscaling end to end with the `local` actuator: a real noa-controller scales a sample HTTP
// service (a small Python server whose Prometheus endpoint reports http_requests_per_second)
// by starting and stopping local replicas, each with its own noa-agent. Raising the reported
// rate scales up; the new replicas register and become ready; dropping it scales down after the
// (short) stabilization window.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "tests/testing/harness/noa_cluster.h"

namespace noa::testing {
namespace {

constexpr const char* kService = R"(import http.server, sys
port, load_file = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path.startswith('/health'):
            body = b'ok'
        elif self.path == '/metrics':
            try: value = open(load_file).read().strip()
            except OSError: value = '0'
            body = ('# TYPE http_requests_per_second gauge\nhttp_requests_per_second %s\n' % value).encode()
        else:
            self.send_response(404); self.end_headers(); return
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
)";

bool waitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return done();
}

bool portFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// `n` consecutive free ports: replica i listens on base + i.
int freePorts(int n) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int base = freePort();
    bool all = base + n < 65536;
    for (int i = 1; all && i < n; ++i) all = portFree(base + i);
    if (all) return base;
  }
  return freePort();
}

// The replicas run in their own sessions: kill every process in their pid files, also when an
// assertion ends the test early.
struct ReplicaReaper {
  std::string dir;
  ~ReplicaReaper() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".pids") continue;
      std::ifstream pids(entry.path());
      for (long pid = 0; pids >> pid;) ::kill(-static_cast<pid_t>(pid), SIGKILL);
    }
  }
};

int currentReplicas(NoaCluster& cluster) {
  auto s = cluster.getJson("/v1/services/web/autoscale");
  if (!s.ok() || !(*s)["current_replicas"].is_number_integer()) return -1;
  return (*s)["current_replicas"].get<int>();
}

size_t readyAgents(NoaCluster& cluster) {
  size_t n = 0;
  for (const auto& [id, agent] : cluster.agents()) {
    if (id.rfind("web-", 0) == 0 && agent.value("state", "") == "alive" &&
        agent.contains("health") && agent["health"].value("ready", false)) {
      ++n;
    }
  }
  return n;
}

TEST(LocalAutoscale, ScalesUpOnRequestRateAndDownAfterTheWindow) {
  if (std::system("python3 -c 'import http.server' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "python3 is not available for the sample service";
  }
  TempDir dir;
  // Destroyed after the cluster (so after the controller, which would restart replicas).
  ReplicaReaper reaper{dir.path() + "/replicas"};
  auto cluster = NoaCluster::create(dir.path(), {NOA_CONTROLLER_BIN, NOA_AGENT_BIN, NOA_CTL_BIN});
  ASSERT_TRUE(cluster.ok()) << cluster.status().toString();
  NoaCluster& c = **cluster;
  const std::string script = dir.path() + "/service.py";
  const std::string load = dir.path() + "/load";
  std::ofstream(script) << kService;
  std::ofstream(load) << "50\n";
  // The replicas' agents are enrolled ahead (keys in <credentials>/agents/<id>); their argv is
  // the harness's with the replica id left as a placeholder.
  std::vector<std::string> security;
  for (int i = 0; i < 3; ++i) {
    auto args = c.credentials().agentArgs("web-" + std::to_string(i));
    ASSERT_TRUE(args.ok()) << args.status().toString();
    if (i == 0) security = *args;
  }
  const int base_port = freePorts(3);
  std::string agent_argv = "[" + std::string("\"") + NOA_AGENT_BIN +
                           "\", --agent-id, \"{replica}\", "
                           "--controller, \"tcp://127.0.0.1:" +
                           std::to_string(c.zmqPort()) +
                           "\", --report-interval, 200ms, --probe-period, 200ms, --service, web, "
                           "--kind, http, --service-port, \"{port}\", --metrics-url, "
                           "\"http://127.0.0.1:{port}/metrics\", --metrics-allow, "
                           "http_requests_per_second";
  for (std::string arg : security) {
    for (size_t p = arg.find("web-0"); p != std::string::npos; p = arg.find("web-0")) {
      arg.replace(p, 5, "{replica}");
    }
    agent_argv += ", \"" + arg + "\"";
  }
  agent_argv += "]";
  const std::string policy = dir.path() + "/policy.yaml";
  std::ofstream(policy) << "services:\n  web:\n    autoscale:\n      min_replicas: 1\n"
                           "      max_replicas: 3\n      downscale_stabilization: 3s\n"
                           "      metrics:\n        - pods: {name: http_requests_per_second, "
                           "average_value: 100}\n"
                           "      actuator:\n        type: local\n        command: [python3, \""
                        << script << "\", \"{port}\", \"" << load << "\"]\n"
                        << "        agent_command: " << agent_argv << "\n"
                        << "        base_port: " << base_port << "\n"
                        << "        state_dir: \"" << dir.path() << "/replicas\"\n";
  ASSERT_TRUE(c.startController({"--policy-file", policy}).ok()) << c.logs();

  // No replica yet: the local actuator reports 0 and min_replicas 1 is not 0, so Kubernetes'
  // rule applies (zero replicas = scaling disabled). Start the first one by hand.
  CliRun scaled = c.noactl({"scale", "web", "1", "--ttl", "2s"});
  ASSERT_EQ(scaled.code, 0) << scaled.err << c.logs();
  ASSERT_TRUE(waitFor([&] { return readyAgents(c) == 1; }, std::chrono::seconds(30))) << c.logs();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the override ends

  std::ofstream(load, std::ios::trunc) << "250\n";  // 2.5 x the target per replica
  ASSERT_TRUE(waitFor([&] { return readyAgents(c) == 3 && currentReplicas(c) == 3; },
                      std::chrono::seconds(30)))
      << c.noactl({"autoscale", "web"}).out << c.logs();

  std::ofstream(load, std::ios::trunc) << "10\n";
  ASSERT_TRUE(waitFor([&] { return currentReplicas(c) == 1 && readyAgents(c) == 1; },
                      std::chrono::seconds(30)))
      << c.noactl({"autoscale", "web"}).out << c.logs();
  CliRun decisions = c.noactl({"decisions", "--service", "web", "--kind", "autoscale"}, "viewer");
  EXPECT_NE(decisions.out.find("scale_up"), std::string::npos) << decisions.out;
  EXPECT_NE(decisions.out.find("scale_down"), std::string::npos) << decisions.out;
  CliRun shown = c.noactl({"autoscale", "web"}, "viewer");
  EXPECT_EQ(shown.code, 0) << shown.err;
  EXPECT_NE(shown.out.find("ScalingActive:   True ValidMetricFound"), std::string::npos)
      << shown.out;
}

}  // namespace
}  // namespace noa::testing
