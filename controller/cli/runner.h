#pragma once

// noactl's insides, shared by the files that implement its commands: the parsed command line and
// the Runner that calls the REST API and prints the answers. commands.cc parses the command line
// and has the plumbing (fetch / print / show) and the registry, service, key and audit commands;
// command_verbs.cc has the command channel's (run, commands, command, cancel), backup_verbs.cc
// the backups' (backup now|list|show|restore|verify|pin|status, drill).

#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/flags.h"
#include "common/status.h"
#include "controller/cli/client.h"

namespace noa::cli {

struct Invocation {
  std::string command;
  std::vector<std::string> positionals;
  po::variables_map global;
  po::variables_map local;
  CommonFlags common;
};

// Adds "name=value" to a query string when the flag was given.
void addQuery(std::string& target, const po::variables_map& vm, const char* name);

// ---- command_verbs.cc ----

// Adds the flags of `run` and `commands` to `desc` (nothing for other commands).
void addCommandChannelFlags(const std::string& command, po::options_description& desc);
// The body of POST /v1/commands from `run ACTION ...`; InvalidArgument (a usage error) saying
// what is wrong with the flags: the target, --param, --params-json or --timeout.
Result<nlohmann::json> newCommandBody(const Invocation& inv);
// Whether the REST state name is a terminal one (succeeded, failed, timed_out, cancelled).
bool isTerminalCommandState(const nlohmann::json& state);

// ---- backup_verbs.cc ----

// ---- autoscale_verbs.cc ----

// Adds the flags of `scale` (--ttl) to `desc` (nothing for other commands).
void addAutoscaleFlags(const std::string& command, po::options_description& desc);
// GET /v1/services/{name}/autoscale as key: value lines, the proposals and recent decisions.
Result<std::string> renderAutoscale(const nlohmann::json& state, int64_t now_ms);

// ---- failover_verbs.cc ----

// Adds the flags of switchover, failover, pause and decisions to `desc`.
void addFailoverFlags(const std::string& command, po::options_description& desc);

// Adds the flags of `backup` and `drill` to `desc` (nothing for other commands).
void addBackupFlags(const std::string& command, po::options_description& desc);
// Checks `backup VERB ...`: a known verb, its arguments, and only its own flags; InvalidArgument
// (a usage error) saying what is wrong.
Status checkBackupInvocation(const Invocation& inv);

class Runner {
 public:
  Runner(const Invocation& inv, ControllerClient client, bool json_output, std::ostream& out,
         std::ostream& err, int64_t now_ms)
      : inv_(inv),
        client_(std::move(client)),
        json_output_(json_output),
        out_(out),
        err_(err),
        now_ms_(now_ms) {}

  // Runs inv.command; returns the exit code (commands.h).
  int run();

 private:
  using Renderer = std::function<Result<std::string>(const nlohmann::json&)>;

  // ---- commands.cc ----
  int keys();
  int status();
  // GETs `target` (POSTs `post_body` when given), then checkReply().
  int fetch(const std::string& target, nlohmann::json& body, int& http_status,
            std::initializer_list<int> accepted = {}, const std::string* post_body = nullptr);
  // On success leaves the parsed body in `body` and returns kExitOk; otherwise says why on
  // stderr and returns the exit code. Statuses in `accepted` (besides 2xx) count as success
  // when their body is JSON.
  int checkReply(const Result<HttpReply>& reply, const std::string& target, nlohmann::json& body,
                 int& http_status, std::initializer_list<int> accepted = {});
  // The server's JSON with --output json, else render(body).
  int print(const nlohmann::json& body, const Renderer& render);
  int show(const std::string& target, const Renderer& render);
  static std::string textOf(const nlohmann::json& object, const char* key);

  // ---- command_verbs.cc ----
  int runAction();
  // Long-polls the command until it is terminal, progress on stderr, then prints it.
  int waitForCommand(nlohmann::json record);
  // POSTs `body` to `target`, a route that creates a command; prints the command, or with
  // `wait` follows it as waitForCommand does.
  int createCommand(const std::string& target, const std::string& body, bool wait);
  int listCommands();
  int showCommand();
  int cancelCommand();

  // ---- backup_verbs.cc ----
  int backup();
  int drill();

  // ---- autoscale_verbs.cc ----
  // autoscale SERVICE, autoscale pause|resume SERVICE, scale SERVICE N [--ttl D].
  int autoscaleVerb();

  // ---- failover_verbs.cc ----
  // failover-status, switchover, failover, pause, resume, decisions.
  int failoverVerb();
  // history NAME: a replicated service's leader timeline, else an agent's stored reports.
  int history();

  const Invocation& inv_;
  ControllerClient client_;
  bool json_output_;
  std::ostream& out_;
  std::ostream& err_;
  int64_t now_ms_;
};

}  // namespace noa::cli
