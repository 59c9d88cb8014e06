#include "tests/testing/harness/noa_cluster.h"

#include <sstream>

#include "common/process/process.h"

namespace noa::testing {

Result<std::unique_ptr<NoaCluster>> NoaCluster::create(const std::string& dir,
                                                       NoaBinaries binaries,
                                                       std::string report_interval,
                                                       std::string log_level) {
  std::unique_ptr<NoaCluster> cluster(new NoaCluster(dir, std::move(binaries),
                                                     std::move(report_interval),
                                                     std::move(log_level)));
  NOA_ASSIGN_OR_RETURN(cluster->creds_, TestCredentials::create(dir + "/credentials"));
  cluster->api_port_ = freePort();
  cluster->zmq_port_ = freePort();
  return cluster;
}

NoaCluster::~NoaCluster() {
  agents_.clear();  // agents first: they would only reconnect to nothing
  controller_.reset();
}

Status NoaCluster::startController(const std::vector<std::string>& extra_args) {
  controller_.reset();
  std::vector<std::string> argv = {binaries_.controller,
                                   "--controller-id",
                                   "ctl-test",
                                   "--data-dir",
                                   dir_ + "/data",
                                   "--listen",
                                   "tcp://" + listen_host_ + ":" + std::to_string(zmq_port_),
                                   "--api-listen",
                                   "127.0.0.1:" + std::to_string(api_port_),
                                   "--report-interval",
                                   report_interval_,
                                   "--log-level",
                                   log_level_};
  for (auto& arg : creds_.controllerArgs()) argv.push_back(std::move(arg));
  for (const auto& arg : extra_args) argv.push_back(arg);
  const std::string log =
      dir_ + "/controller-" + std::to_string(++controller_starts_) + ".log";
  NOA_ASSIGN_OR_RETURN(controller_, ChildProcess::start(argv, log));
  const bool up = waitUntil([&] { return httpGet(api_port_, "/v1/health").ok(); },
                            std::chrono::seconds(20));
  if (!up) return Status::Unavailable("controller did not come up: " + controller_->logTail());
  return Status::Ok();
}

void NoaCluster::killController() {
  if (controller_) controller_->kill9();
}

int NoaCluster::stopController() { return controller_ ? controller_->terminate() : -1; }

Status NoaCluster::startAgent(const std::string& agent_id, const std::vector<std::string>& args,
                              const std::string& log_suffix) {
  agents_.erase(agent_id);
  NOA_ASSIGN_OR_RETURN(std::vector<std::string> security, creds_.agentArgs(agent_id));
  std::vector<std::string> argv;
  if (agent_prefix_.count(agent_id)) argv = agent_prefix_.at(agent_id);
  const std::string controller = agent_controller_.count(agent_id)
                                     ? agent_controller_.at(agent_id)
                                     : "tcp://" + listen_host_ + ":" + std::to_string(zmq_port_);
  for (const std::string& word :
       {binaries_.agent, std::string("--agent-id"), agent_id, std::string("--controller"),
        controller, std::string("--report-interval"), report_interval_,
        std::string("--log-level"), log_level_}) {
    argv.push_back(word);
  }
  for (auto& arg : security) argv.push_back(std::move(arg));
  for (const auto& arg : args) argv.push_back(arg);
  const std::string log = dir_ + "/agent-" + agent_id + "-" +
                          std::to_string(++agent_starts_[agent_id]) + log_suffix + ".log";
  NOA_ASSIGN_OR_RETURN(agents_[agent_id], ChildProcess::start(argv, log));
  return Status::Ok();
}

void NoaCluster::killAgent(const std::string& agent_id) {
  if (auto* a = agent(agent_id)) a->kill9();
}

ChildProcess* NoaCluster::agent(const std::string& agent_id) {
  auto it = agents_.find(agent_id);
  return it == agents_.end() ? nullptr : it->second.get();
}

std::string NoaCluster::agentStateDir(const std::string& agent_id) const {
  return creds_.dir() + "/agents/" + agent_id;
}

std::map<std::string, nlohmann::json> NoaCluster::agents() {
  std::map<std::string, nlohmann::json> out;
  auto body = getJson("/v1/agents");
  if (!body.ok() || !body->contains("agents")) return out;
  for (const auto& a : (*body)["agents"]) out[a["id"].get<std::string>()] = a;
  return out;
}

bool NoaCluster::isAlive(const std::string& agent_id) {
  auto all = agents();
  return all.count(agent_id) != 0 && all[agent_id]["state"] == "alive";
}

bool NoaCluster::waitAlive(const std::string& agent_id, std::chrono::milliseconds timeout) {
  return waitUntil([&] { return isAlive(agent_id); }, timeout);
}

Result<nlohmann::json> NoaCluster::getJson(const std::string& path, const std::string& role) {
  return httpGetJson(api_port_, path, creds_.token(role));
}

Result<HttpResponse> NoaCluster::post(const std::string& path, const nlohmann::json& body,
                                      const std::string& role) {
  return httpPost(api_port_, path, body.is_null() ? std::string() : body.dump(),
                  creds_.token(role));
}

CliRun NoaCluster::noactl(const std::vector<std::string>& args, const std::string& role,
                          std::chrono::milliseconds timeout) {
  ProcessSpec spec;
  spec.argv = {binaries_.noactl, "--controller", "http://127.0.0.1:" + std::to_string(api_port_)};
  for (auto& a : creds_.noactlArgs(role)) spec.argv.push_back(std::move(a));
  for (const auto& a : args) spec.argv.push_back(a);
  spec.env["HOME"] = dir_;  // no developer's ~/.config/noa/noactl.yaml
  spec.timeout = timeout;
  auto run = runProcess(spec);
  if (!run.ok()) return {-1, "", run.status().toString()};
  return {run->exit_code, run->stdout_tail, run->stderr_tail};
}

std::string NoaCluster::logs(size_t bytes_each) const {
  std::ostringstream out;
  if (controller_) out << "--- controller log\n" << controller_->logTail(bytes_each) << "\n";
  for (const auto& [id, agent] : agents_) {
    out << "--- agent " << id << " log\n" << agent->logTail(bytes_each) << "\n";
  }
  return out.str();
}

}  // namespace noa::testing
