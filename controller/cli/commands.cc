#include "controller/cli/commands.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/duration.h"
#include "common/flags.h"
#include "controller/cli/admin_tables.h"
#include "controller/cli/cli_config.h"
#include "controller/cli/client.h"
#include "controller/cli/runner.h"
#include "controller/cli/tables.h"

namespace noa::cli {
namespace {

using nlohmann::json;

struct CommandSpec {
  const char* name;
  const char* synopsis;
  size_t positionals;      // required positional arguments (the agent id)
  size_t max_positionals;  // more are optional (keys: "list" or "accept ID")
  const char* summary;
};

constexpr CommandSpec kCommands[] = {
    {"status", "status", 0, 0, "controller health, store status, agent counts and the agents"},
    {"agents", "agents [--service S] [--state alive|suspect|lost]", 0, 0, "list agents"},
    {"agent", "agent ID", 1, 1, "one agent: registry facts, health, probes, metrics"},
    {"services", "services", 0, 0, "agents grouped by service"},
    {"service", "service NAME", 1, 1,
     "one service: aggregates, primary, and each member's role, state, health and lag"},
    {"top", "top", 0, 0,
     "per service: replicas, ready, CPU and memory (avg/max), requests and other rates"},
    {"history", "history SERVICE | history ID [--since T] [--limit N]", 1, 1,
     "a replicated service's timeline of leaders with reasons; for an agent ID, its stored\n"
     "      reports (T: RFC 3339 or unix ms; N: 1..10000, default 100)"},
    {"metric", "metric ID NAME [--since T] [--limit N]", 2, 2,
     "one metric's values in the stored reports of one agent (T, N: as for history)"},
    {"keys", "keys list | keys accept KEY-ID [--agent AGENT-ID] | keys reject|revoke KEY-ID", 1, 2,
     "agent keys: list them (viewer), accept one, optionally as AGENT-ID, reject or revoke one "
     "(admin)"},
    {"audit", "audit [--since T] [--limit N] [--actor A]", 0, 0,
     "changes made through the REST API: who, what, when, result (admin; T, N: as for history)"},
    {"run",
     "run ACTION (--service S [--role R] [--all] | --agent A) [--param K=V]... [--params-json J]\n"
     "      [--timeout D] [--wait]",
     1, 1,
     "run an action on an agent (operator): the one agent of service S (in role R), or agent A;\n"
     "      --all: on every live agent of S (in role R), one command each (prints the ids).\n"
     "      --param values that read as a number or true/false are sent as such, others as\n"
     "      strings (quote to keep one: --param 'code=\"007\"'); --params-json adds an object.\n"
     "      --timeout after 'run' is the command's (default 1h). Prints the command; --wait\n"
     "      follows it to its end (progress on stderr) and exits 5 unless it succeeded"},
    {"commands", "commands [--state S] [--service S] [--agent A] [--limit N]", 0, 0,
     "commands, newest first (S: pending, sent, acked, running, succeeded, failed, timed_out,\n"
     "      cancelled; N: 1..1000, default 100)"},
    {"command", "command ID", 1, 1, "one command: target, params, state history, progress, result"},
    {"cancel", "cancel ID", 1, 1,
     "cancel a command (operator): at once when not sent yet, else the agent is told"},
    {"backup",
     "backup now SERVICE [--policy P] [--wait] | backup list [--service S] [--status S]\n"
     "      [--policy P] [--limit N] | backup show ID | backup status |\n"
     "      backup restore ID --target-db DB [--swap] [--wait] | backup verify ID [--wait] |\n"
     "      backup pin ID [--unpin]",
     1, 2,
     "backups: list, show (with verifications and drills), status (per service: RPO, last\n"
     "      drill); now (of policy P), restore into DB (--swap: it takes DB's place), verify,\n"
     "      pin against retention (operator). --wait: follow it, exit 5 unless it succeeded"},
    {"drill", "drill SERVICE [--wait]", 1, 1,
     "restore drill (operator): the service's newest good backup into a scratch database,\n"
     "      timed against the RTO target; --wait as for backup"},
    {"failover-status", "failover-status SERVICE", 1, 1,
     "a replicated service's leader, epoch, lease, transition in progress and members"},
    {"switchover", "switchover SERVICE [--to MEMBER]", 1, 1,
     "planned switchover (operator): fence the leader, wait until MEMBER (default: the best\n"
     "      replica) has every write, promote it; rolled back if it does not catch up"},
    {"failover", "failover SERVICE --to MEMBER", 1, 1,
     "forced failover (operator): promote MEMBER now, also with no serving leader; writes it\n"
     "      has not received are lost"},
    {"pause", "pause SERVICE [--reason R]", 1, 1,
     "maintenance mode (operator): no automatic failover until resume"},
    {"resume", "resume SERVICE", 1, 1, "end maintenance mode (operator)"},
    {"decisions", "decisions [--service S] [--kind K] [--since T] [--limit N]", 0, 0,
     "what the controller decided (and decided not to do), with inputs and reasons"},
    {"autoscale", "autoscale SERVICE | autoscale pause|resume SERVICE", 1, 2,
     "autoscaling: mode, replicas, HPA conditions, per-metric proposals and the last\n"
     "      decisions; pause stops actuating (decisions are still recorded), resume (operator)"},
    {"scale", "scale SERVICE N [--ttl D]", 2, 2,
     "manual scale (operator): set N replicas and hold them until D has passed (default 1h),\n"
     "      then the autoscaler decides again"},
};

const CommandSpec* findCommand(const std::string& name) {
  for (const CommandSpec& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

po::options_description globalFlags() {
  po::options_description desc("Flags");
  desc.add_options()("controller", po::value<std::string>()->default_value(kDefaultControllerUrl),
                     "REST URL of noa-controller (also NOA_CONTROLLER_URL)")(
      "output,o", po::value<std::string>()->default_value("table"), "table | json")(
      "timeout", po::value<std::string>()->default_value("5s"),
      "connect and read timeout of each request (e.g. 500ms, 5s); with 'run', give it before\n"
      "the command (after it, --timeout is the command's own)")(
      "token-file", po::value<std::string>(),
      "file holding the bearer token (else NOA_TOKEN, else the config file's token_file)")(
      "ca-file", po::value<std::string>(),
      "PEM CA bundle that verifies an https controller (default: the system's CAs)")(
      "config", po::value<std::string>(),
      "YAML with controller, token_file, ca_file (default ~/.config/noa/noactl.yaml, then "
      "/etc/noa/noactl.yaml)");
  addCommonFlags(desc);
  return desc;
}

// Flags of one command. Deliberately not read from NOA_* variables: NOA_SERVICE and friends
// configure noa-agent and would silently filter listings in the same shell.
po::options_description commandFlags(const std::string& command) {
  po::options_description desc("Flags of '" + command + "'");
  if (command == "agents") {
    desc.add_options()("service", po::value<std::string>(), "only agents of this service")(
        "state", po::value<std::string>(), "only agents in this state: alive | suspect | lost");
  } else if (command == "keys") {
    desc.add_options()("agent", po::value<std::string>(),
                       "with accept: the agent id the key is admitted as (default: its claim)");
  } else if (command == "history" || command == "metric" || command == "audit") {
    desc.add_options()("since", po::value<std::string>(), "entries at or after T")(
        "limit", po::value<std::string>(), "at most N entries");
    if (command == "audit") {
      desc.add_options()("actor", po::value<std::string>(), "only this actor's changes");
    }
  }
  addCommandChannelFlags(command, desc);
  addBackupFlags(command, desc);
  addFailoverFlags(command, desc);
  addAutoscaleFlags(command, desc);
  return desc;
}

std::string usage() {
  std::ostringstream out;
  out << "usage: noactl [flags] COMMAND [ARGS]\n"
         "Command line of noa-controller's REST API.\n\nCommands:\n";
  for (const CommandSpec& c : kCommands) {
    out << "  " << c.synopsis << "\n      " << c.summary << "\n";
  }
  out << "\n"
      << globalFlags() << "\n"
      << "Every flag above can also be set as NOA_<NAME> (e.g. NOA_OUTPUT=json); the controller\n"
         "URL also as NOA_CONTROLLER_URL. The command line wins, then the environment, then the\n"
         "config file. The bearer token is never a flag (argv is visible in ps): it is read from\n"
         "--token-file (NOA_TOKEN_FILE), else NOA_TOKEN, else the config file's token_file.\n"
         "Exit codes: 0 ok, 1 usage error, 2 controller unreachable, 3 HTTP error (401/403\n"
         "included) or degraded controller, 4 unreadable response, 5 command did not succeed\n"
         "(run, backup or drill with --wait: it failed, timed out or was cancelled).\n";
  return out.str();
}

bool takesValue(const po::options_description& desc, const std::string& name) {
  const po::option_description* option = desc.find_nothrow(name, false);
  return option != nullptr && option->semantic()->max_tokens() > 0;
}

// Splits argv into global flags (before or after the command), the command, its flags and its
// positional arguments, then parses each part with its own description.
Status parseInvocation(int argc, const char* const* argv, Invocation& inv) {
  const po::options_description global = globalFlags();
  std::vector<std::string> global_args = {argc > 0 ? argv[0] : "noactl"};
  std::vector<std::string> local_args = {"noactl"};
  po::options_description local;
  bool controller_on_command_line = false;
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token.size() > 1 && token[0] == '-') {
      std::string name = token.substr(token.find_first_not_of('-'));
      const bool inline_value = name.find('=') != std::string::npos;
      name = name.substr(0, name.find('='));
      if (token.rfind("--", 0) != 0 && name.size() == 1) {
        // Short flags: -h and -o.
        name = name == "h" ? "help" : name == "o" ? "output" : name;
      }
      // A flag after the command that the command defines is the command's (run's --timeout);
      // any other global flag may come before or after the command.
      const bool is_local = !inv.command.empty() && local.find_nothrow(name, false) != nullptr;
      const bool is_global = !is_local && global.find_nothrow(name, false) != nullptr;
      const po::options_description& owner = is_global ? global : local;
      std::vector<std::string>& args = is_global || inv.command.empty() ? global_args : local_args;
      if (name == "controller") controller_on_command_line = true;
      args.push_back(token);
      if (!inline_value && takesValue(owner, name) && i + 1 < argc) args.push_back(argv[++i]);
    } else if (inv.command.empty()) {
      inv.command = token;
      if (findCommand(token) == nullptr) {
        return Status::InvalidArgument("unknown command '" + token + "'");
      }
      local.add(commandFlags(token));
    } else {
      inv.positionals.push_back(token);
    }
  }

  std::vector<const char*> global_argv;
  for (const auto& a : global_args) global_argv.push_back(a.c_str());
  NOA_RETURN_IF_ERROR(parseFlags(static_cast<int>(global_argv.size()), global_argv.data(), global,
                                 inv.global, inv.common));
  // NOA_CONTROLLER_URL wins over NOA_CONTROLLER, which may hold noa-agent's tcp:// endpoint.
  if (!controller_on_command_line) {
    if (const char* env = std::getenv("NOA_CONTROLLER_URL"); env != nullptr && *env != '\0') {
      inv.global.at("controller").value() = std::string(env);
    }
  }
  if (inv.common.help || inv.common.check_config) return Status::Ok();
  if (inv.command.empty()) return Status::InvalidArgument("no command given");
  try {
    std::vector<const char*> local_argv;
    for (const auto& a : local_args) local_argv.push_back(a.c_str());
    po::store(po::command_line_parser(static_cast<int>(local_argv.size()), local_argv.data())
                  .options(local)
                  .run(),
              inv.local);
    po::notify(inv.local);
  } catch (const po::error& e) {
    return Status::InvalidArgument(std::string(e.what()) + " (for '" + inv.command + "')");
  }
  const CommandSpec& spec = *findCommand(inv.command);
  if (inv.command == "backup") return checkBackupInvocation(inv);
  if (inv.command == "keys" && !inv.positionals.empty()) {
    const std::string& action = inv.positionals[0];
    const size_t want = action == "list" ? 1 : 2;
    if (action != "list" && action != "accept" && action != "reject" && action != "revoke") {
      return Status::InvalidArgument("'keys' takes list, accept, reject or revoke, not '" + action +
                                     "': " + spec.synopsis);
    }
    if (inv.positionals.size() != want) {
      return Status::InvalidArgument("'keys " + action + "' takes " +
                                     (want == 1 ? "no argument" : "one KEY-ID") + ": " +
                                     spec.synopsis);
    }
    if (inv.local.count("agent") && action != "accept") {
      return Status::InvalidArgument("--agent goes with 'keys accept' only");
    }
    return Status::Ok();
  }
  if (inv.positionals.size() < spec.positionals || inv.positionals.size() > spec.max_positionals) {
    std::string count = std::to_string(spec.positionals) + " arguments";
    if (spec.positionals == 0) count = "no arguments";
    if (spec.positionals == 1) count = "one argument";
    return Status::InvalidArgument("'" + inv.command + "' takes " + count + ": " + spec.synopsis);
  }
  if (inv.command == "run") {
    if (Result<json> body = newCommandBody(inv); !body.ok()) return body.status();
  }
  if (inv.command == "failover" && !inv.local.count("to")) {
    return Status::InvalidArgument("'failover' needs --to MEMBER (a switchover picks one itself): " +
                                   std::string(spec.synopsis));
  }
  return Status::Ok();
}

}  // namespace

void addQuery(std::string& target, const po::variables_map& vm, const char* name) {
  if (!vm.count(name)) return;
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += std::string(name) + "=" + urlEncode(vm[name].as<std::string>());
}

int Runner::run() {
  const std::string& c = inv_.command;
  if (c == "status") return status();
  if (c == "agents") {
    std::string target = "/v1/agents";
    addQuery(target, inv_.local, "service");
    addQuery(target, inv_.local, "state");
    return show(target, [this](const json& b) { return renderAgents(b, now_ms_); });
  }
  if (c == "agent") {
    return show("/v1/agents/" + urlEncode(inv_.positionals[0]),
                [this](const json& b) { return renderAgent(b, now_ms_); });
  }
  if (c == "services") return show("/v1/services", renderServices);
  if (c == "service") {
    return show("/v1/services/" + urlEncode(inv_.positionals[0]), renderService);
  }
  if (c == "top") return show("/v1/services", renderTop);
  if (c == "keys") return keys();
  if (c == "audit") {
    std::string target = "/v1/audit";
    addQuery(target, inv_.local, "since");
    addQuery(target, inv_.local, "limit");
    addQuery(target, inv_.local, "actor");
    return show(target, renderAudit);
  }
  if (c == "run") return runAction();
  if (c == "commands") return listCommands();
  if (c == "command") return showCommand();
  if (c == "cancel") return cancelCommand();
  if (c == "backup") return backup();
  if (c == "drill") return drill();
  if (c == "failover-status" || c == "switchover" || c == "failover" || c == "pause" ||
      c == "resume" || c == "decisions") {
    return failoverVerb();
  }
  if (c == "autoscale" || c == "scale") return autoscaleVerb();
  if (c == "history") return history();
  std::string target = "/v1/agents/" + urlEncode(inv_.positionals[0]);
  if (c == "metric") {
    target += "/metrics?name=" + urlEncode(inv_.positionals[1]);
  } else {
    target += "/history";
  }
  addQuery(target, inv_.local, "since");
  addQuery(target, inv_.local, "limit");
  return show(target, c == "metric" ? Renderer(renderMetricSeries) : Renderer(renderHistory));
}

int Runner::keys() {
  const std::string& action = inv_.positionals[0];
  if (action == "list") {
    return show("/v1/keys", [this](const json& b) { return renderKeys(b, now_ms_); });
  }
  std::string body;
  if (inv_.local.count("agent")) {
    body = json({{"agent_id", inv_.local["agent"].as<std::string>()}}).dump();
  }
  const std::string target = "/v1/keys/" + urlEncode(inv_.positionals[1]) + "/" + action;
  json reply;
  int http_status = 0;
  if (int code = fetch(target, reply, http_status, {}, &body); code != kExitOk) return code;
  return print(reply, [this](const json& b) { return renderKey(b, now_ms_); });
}

int Runner::fetch(const std::string& target, json& body, int& http_status,
                  std::initializer_list<int> accepted, const std::string* post_body) {
  return checkReply(post_body != nullptr ? client_.post(target, *post_body) : client_.get(target),
                    target, body, http_status, accepted);
}

int Runner::checkReply(const Result<HttpReply>& reply, const std::string& target, json& body,
                       int& http_status, std::initializer_list<int> accepted) {
  if (!reply.ok()) {
    err_ << "noactl: " << reply.status().message() << "\n";
    return reply.status().code() == StatusCode::kUnavailable ? kExitUnreachable : kExitUsage;
  }
  http_status = reply->status;
  body = json::parse(reply->body, nullptr, false);
  const bool ok_status = (http_status >= 200 && http_status < 300) ||
                         std::find(accepted.begin(), accepted.end(), http_status) != accepted.end();
  if (!ok_status) {
    const std::string url = client_.url().text + target;
    if (http_status == 401 || http_status == 403) {
      err_ << "noactl: " << (http_status == 401 ? "not authorized" : "forbidden") << " ("
           << http_status << ")";
      if (body.is_object() && body.contains("detail")) err_ << ": " << textOf(body, "detail");
      err_ << (http_status == 401 ? "; set NOA_TOKEN or --token-file (or token_file in the "
                                    "config file)\n"
                                  : "; ask for a token with a higher role\n");
      return kExitHttpError;
    }
    if (body.is_object() && body.contains("title")) {
      err_ << "noactl: " << textOf(body, "title");
      if (body.contains("detail")) err_ << ": " << textOf(body, "detail");
      err_ << " (HTTP " << http_status << " from " << url << ")\n";
    } else {
      err_ << "noactl: HTTP " << http_status << " from " << url << "\n";
    }
    return kExitHttpError;
  }
  if (body.is_discarded()) {
    err_ << "noactl: bad response from " << client_.url().text << target << ": not JSON\n";
    return kExitBadResponse;
  }
  return kExitOk;
}

int Runner::print(const json& body, const Renderer& render) {
  if (json_output_) {
    out_ << body.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    return kExitOk;
  }
  Result<std::string> text = Status::Internal("not rendered");
  try {
    text = render(body);
  } catch (const json::exception& e) {
    text = Status::InvalidArgument(e.what());
  }
  if (!text.ok()) {
    err_ << "noactl: bad response from " << client_.url().text << ": " << text.status().message()
         << "\n";
    return kExitBadResponse;
  }
  out_ << *text;
  return kExitOk;
}

int Runner::show(const std::string& target, const Renderer& render) {
  json body;
  int http_status = 0;
  if (int code = fetch(target, body, http_status); code != kExitOk) return code;
  return print(body, render);
}

// A degraded controller answers 503 with the full health body: show it, then fail.
int Runner::status() {
  json body;
  int http_status = 0;
  if (int code = fetch("/v1/health", body, http_status, {503}); code != kExitOk) return code;
  if (int code = print(body, [this](const json& b) { return renderStatus(b, now_ms_); });
      code != kExitOk) {
    return code;
  }
  // An operator's first look: the controller, then every agent (the JSON stays the health
  // resource alone, so scripts get one document).
  if (!json_output_) {
    out_ << "\n";
    if (int code = show("/v1/agents", [this](const json& b) { return renderAgents(b, now_ms_); });
        code != kExitOk) {
      return code;
    }
  }
  if (http_status == 503) {
    std::string why = "the controller is degraded";
    if (body.is_object() && body.contains("store") && body["store"].is_object() &&
        body["store"].contains("error")) {
      why += ": store " + textOf(body["store"], "error");
    }
    err_ << "noactl: " << why << "\n";
    return kExitHttpError;
  }
  return kExitOk;
}

std::string Runner::textOf(const json& object, const char* key) {
  const json& value = object[key];
  return value.is_string() ? value.get<std::string>()
                           : value.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

int usageError(std::ostream& err, const std::string& reason) {
  err << "noactl: " << reason << "\n"
      << "usage: noactl [--controller URL] [--output table|json] [--timeout 5s] COMMAND\n"
         "commands: status | agents [--service S] [--state S] | agent ID | services |\n"
         "          service NAME | top | history SERVICE|ID [--since T] [--limit N] |\n"
         "          metric ID NAME [--since T] [--limit N] | keys list |\n"
         "          keys accept|reject|revoke KEY-ID [--agent ID] |\n"
         "          audit [--since T] [--limit N] |\n"
         "          run ACTION (--service S [--role R] [--all] | --agent A) [--param K=V]...\n"
         "              [--params-json J] [--timeout D] [--wait] |\n"
         "          commands [--state S] [--service S] [--agent A] [--limit N] | command ID |\n"
         "          cancel ID | backup now|list|show|restore|verify|pin|status ... |\n"
         "          drill SERVICE [--wait] | failover-status SERVICE |\n"
         "          switchover SERVICE [--to M] | failover SERVICE --to M | pause|resume SERVICE |\n"
         "          decisions [--service S] [--kind K] [--since T] [--limit N] |\n"
         "          autoscale SERVICE | autoscale pause|resume SERVICE | scale SERVICE N [--ttl D]\n"
         "Run 'noactl --help' for details.\n";
  return kExitUsage;
}

}  // namespace

int runCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           const Clock& clock) {
  Invocation inv;
  if (Status parsed = parseInvocation(argc, argv, inv); !parsed.ok()) {
    return usageError(err, parsed.message());
  }
  if (inv.common.help) {
    out << usage();
    return kExitOk;
  }
  const std::string controller = inv.global["controller"].as<std::string>();
  const std::string output = inv.global["output"].as<std::string>();
  if (output != "table" && output != "json") {
    return usageError(err, "--output must be table or json, not '" + output + "'");
  }
  Result<std::chrono::milliseconds> timeout =
      parseDuration(inv.global["timeout"].as<std::string>());
  if (!timeout.ok() || timeout->count() <= 0) {
    return usageError(err, "--timeout must be a positive duration such as 5s, not '" +
                               inv.global["timeout"].as<std::string>() + "'");
  }
  Result<CliFileConfig> file =
      loadCliConfig(inv.global.count("config") ? inv.global["config"].as<std::string>() : "");
  if (!file.ok()) return usageError(err, file.status().message());
  std::string controller_url = controller;
  const char* url_env = std::getenv("NOA_CONTROLLER_URL");
  const bool url_from_env = url_env != nullptr && *url_env != '\0';
  if (inv.global["controller"].defaulted() && !url_from_env && !file->controller.empty()) {
    controller_url = file->controller;
  }
  Result<ControllerUrl> url = parseControllerUrl(controller_url);
  if (!url.ok()) return usageError(err, url.status().message());
  ClientCredentials credentials;
  credentials.ca_file =
      inv.global.count("ca-file") ? inv.global["ca-file"].as<std::string>() : file->ca_file;
  std::string token_source = "none";
  const char* env_token = std::getenv("NOA_TOKEN");
  std::string token_file;
  if (inv.global.count("token-file")) {
    token_file = inv.global["token-file"].as<std::string>();
  } else if (env_token != nullptr && *env_token != '\0') {
    credentials.bearer_token = env_token;
    token_source = "env NOA_TOKEN";
  } else {
    token_file = file->token_file;
  }
  if (!token_file.empty()) {
    Result<std::string> token = readTokenFile(token_file);
    if (!token.ok()) return usageError(err, token.status().message());
    credentials.bearer_token = *token;
    token_source = "file " + token_file;
  }
  if (inv.common.check_config) {
    // The token itself is never printed, only where it came from.
    out << "config ok\n"
        << "controller = " << url->text << "\noutput = " << output
        << "\ntimeout = " << formatDuration(*timeout)
        << "\nconfig_file = " << (file->path.empty() ? "none" : file->path) << "\ntoken = "
        << (credentials.bearer_token.empty() ? "none" : "set (from " + token_source + ")")
        << "\nca_file = " << (credentials.ca_file.empty() ? "system" : credentials.ca_file) << "\n";
    return kExitOk;
  }
  Runner runner(inv, ControllerClient(std::move(url).value(), *timeout, std::move(credentials)),
                output == "json", out, err, toUnixMillis(clock.wallNow()));
  return runner.run();
}

}  // namespace noa::cli
