// exec, compose and local actuators with real subprocesses. No Docker engine runs here: a fake
// `docker` script first on PATH records its argv, which is the contract being tested.

#include "controller/autoscale/actuators/command_actuators.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "controller/autoscale/actuators/local_actuator.h"
#include "tests/testing/status_matchers.h"

namespace noa::controller::autoscale {
namespace {

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class CommandActuators : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/noa_actuators_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ + "/bin");
    log_ = dir_ + "/argv.log";
    const std::string docker = dir_ + "/bin/docker";
    std::ofstream(docker)
        << "#!/bin/sh\n"
           "echo \"$*\" >> '" +
               log_ +
               "'\n"
               "if [ -n \"$FAKE_DOCKER_FAIL\" ]; then echo 'no such service' >&2; "
               "exit 3; fi\n"
               "case \"$*\" in *' ps '*) printf 'c1\\nc2\\nc3\\n' ;; esac\n";
    ::chmod(docker.c_str(), 0755);
    old_path_ = std::getenv("PATH");
    ::setenv("PATH", (dir_ + "/bin:" + old_path_).c_str(), 1);
  }
  void TearDown() override {
    ::setenv("PATH", old_path_.c_str(), 1);
    ::unsetenv("FAKE_DOCKER_FAIL");
    std::filesystem::remove_all(dir_);
  }
  std::string dir_, log_, old_path_;
};

TEST_F(CommandActuators, ComposeRunsTheExactScaleCommandLine) {
  ActuatorConfig c;
  c.type = ActuatorType::kCompose;
  c.project = "noa";
  c.compose_service = "mcp";
  ComposeActuator compose(c);
  ASSERT_OK(compose.setReplicas("mcp", 4));
  EXPECT_EQ(readAll(log_), "compose -p noa up -d --no-recreate --scale mcp=4\n");
  auto current = compose.currentReplicas("mcp");
  ASSERT_OK(current.status());
  EXPECT_EQ(*current, 3);

  c.compose_files = {"a.yml", "b.yml"};
  EXPECT_EQ(composeScaleArgv(c, 2),
            (std::vector<std::string>{"docker", "compose", "-p", "noa", "-f", "a.yml", "-f",
                                      "b.yml", "up", "-d", "--no-recreate", "--scale", "mcp=2"}));
}

TEST_F(CommandActuators, ComposeFailureCarriesTheToolsMessage) {
  ActuatorConfig c;
  c.project = "noa";
  c.compose_service = "mcp";
  ::setenv("FAKE_DOCKER_FAIL", "1", 1);
  ComposeActuator compose(c);
  Status s = compose.setReplicas("mcp", 4);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "'docker' exited with code 3: no such service");
}

TEST_F(CommandActuators, ExecAppendsServiceAndCount) {
  ActuatorConfig c;
  c.type = ActuatorType::kExec;
  c.command = {"/bin/sh", "-c", "echo \"$0 $1\" >> '" + log_ + "'"};
  ExecActuator exec(c);
  ASSERT_OK(exec.setReplicas("claude-flow", 5));
  EXPECT_EQ(readAll(log_), "claude-flow 5\n");
  EXPECT_EQ(exec.currentReplicas("claude-flow").status().code(), StatusCode::kUnimplemented);
}

TEST_F(CommandActuators, LocalStartsAndStopsReplicaProcesses) {
  ActuatorConfig c;
  c.type = ActuatorType::kLocal;
  c.command = {"sleep", "30"};
  c.agent_command = {"sleep", "{port}"};
  c.base_port = 40;
  c.state_dir = dir_ + "/local";
  EXPECT_EQ(expandReplicaArgv({"--agent-id", "{replica}", "--port", "{port}"}, c, "web", 2),
            (std::vector<std::string>{"--agent-id", "web-2", "--port", "42"}));
  LocalActuator local(c);
  ASSERT_OK(local.setReplicas("web", 2));
  EXPECT_EQ(*local.currentReplicas("web"), 2);
  EXPECT_TRUE(std::filesystem::exists(c.state_dir + "/web-1.pids"));
  ASSERT_OK(local.setReplicas("web", 1));
  EXPECT_EQ(*local.currentReplicas("web"), 1);
  EXPECT_FALSE(std::filesystem::exists(c.state_dir + "/web-1.pids"));
  // A new actuator (a restarted controller) adopts the running replica.
  LocalActuator again(c);
  EXPECT_EQ(*again.currentReplicas("web"), 1);
  ASSERT_OK(again.stopAll("web"));
  EXPECT_EQ(*again.currentReplicas("web"), 0);
}

}  // namespace
}  // namespace noa::controller::autoscale
