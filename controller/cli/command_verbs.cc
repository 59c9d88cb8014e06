// noactl's command channel verbs: run, commands, command, cancel (see commands.cc for usage),
// and the create-then-follow loop the backup verbs share.

#include <cctype>
#include <chrono>
#include <ostream>
#include <string>
#include <thread>

#include "common/duration.h"
#include "controller/cli/command_tables.h"
#include "controller/cli/commands.h"
#include "controller/cli/runner.h"

namespace noa::cli {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// One long-poll waits at most this long. The server answers at once when the command ends; the
// slice only bounds how stale a progress line can get.
constexpr std::chrono::milliseconds kWaitSlice{2000};
// A long-poll that comes back well before its slice without an end was not held (the server had
// no free long-poll slot): pause before asking again rather than ask in a tight loop.
constexpr std::chrono::milliseconds kBusyPause{250};

// --param's value: a JSON number or true/false when the text is exactly one, a JSON string
// literal ("\"007\"") unquoted, anything else the text itself.
json paramValue(const std::string& text) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  if (text.empty() || space(text.front()) || space(text.back())) return text;
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_number() || parsed.is_boolean() || parsed.is_string()) return parsed;
  return text;
}

Result<json> commandParams(const po::variables_map& flags) {
  json params = json::object();
  if (flags.count("params-json")) {
    const std::string& text = flags["params-json"].as<std::string>();
    params = json::parse(text, nullptr, false);
    if (params.is_discarded() || !params.is_object()) {
      return Status::InvalidArgument(
          "--params-json must be a JSON object, such as '{\"format\": \"custom\"}', not '" + text +
          "'");
    }
  }
  if (!flags.count("param")) return params;
  for (const std::string& pair : flags["param"].as<std::vector<std::string>>()) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Status::InvalidArgument("--param takes KEY=VALUE, not '" + pair + "'");
    }
    const std::string key = pair.substr(0, eq);
    if (params.contains(key)) {
      return Status::InvalidArgument("parameter '" + key +
                                     "' is given twice (--param or --params-json)");
    }
    params[key] = paramValue(pair.substr(eq + 1));
  }
  return params;
}

std::string stateOf(const json& record) {
  return record.is_object() && record.contains("state") && record["state"].is_string()
             ? record["state"].get<std::string>()
             : "";
}

// Why a finished command did not succeed: the agent's error code and error, else the last
// history entry (a deadline the controller enforced, a cancel before it was sent).
std::string failureText(const json& record) {
  std::string out;
  if (record.contains("result") && record["result"].is_object()) {
    const json& result = record["result"];
    const std::string code = result.value("error_code", "");
    const std::string error = result.value("error", "");
    out = code;
    if (!error.empty()) out += (out.empty() ? "" : ": ") + error;
  }
  if (out.empty() && record.contains("history") && record["history"].is_array() &&
      !record["history"].empty() && record["history"].back().is_object()) {
    out = record["history"].back().value("detail", "");
  }
  return out;
}

}  // namespace

void addCommandChannelFlags(const std::string& command, po::options_description& desc) {
  if (command == "run") {
    desc.add_options()("service", po::value<std::string>(),
                       "run it on the live agent of this service (with --role: in that role)")(
        "role", po::value<std::string>(),
        "with --service: the role to pick (e.g. primary); with --agent: a check")(
        "agent", po::value<std::string>(), "run it on this agent")(
        "all", po::bool_switch(),
        "with --service: on every live agent of it (and of --role), one command each")(
        "param", po::value<std::vector<std::string>>(),
        "KEY=VALUE, repeatable: a number or true/false as such, else a string")(
        "params-json", po::value<std::string>(), "a JSON object of parameters (with --param)")(
        "timeout", po::value<std::string>(),
        "the command's deadline from now, e.g. 30m (default 1h); the HTTP timeout is the\n"
        "global --timeout before the command")("wait", po::bool_switch(),
                                               "follow it to its end; exit 5 unless it succeeded");
  } else if (command == "commands") {
    desc.add_options()("state", po::value<std::string>(), "only commands in this state")(
        "service", po::value<std::string>(), "only commands for this service")(
        "agent", po::value<std::string>(), "only commands for this agent")(
        "limit", po::value<std::string>(), "at most N commands (1..1000, default 100)");
  }
}

Result<json> newCommandBody(const Invocation& inv) {
  const po::variables_map& flags = inv.local;
  const bool by_service = flags.count("service") != 0;
  const bool by_agent = flags.count("agent") != 0;
  if (by_service == by_agent) {
    return Status::InvalidArgument("'run' needs --service S [--role R] or --agent A (one of them)");
  }
  const bool all = flags.count("all") != 0 && flags["all"].as<bool>();
  if (all && !by_service) return Status::InvalidArgument("'run --all' needs --service S");
  // Following a thousand commands is `noactl commands --service S`, not one --wait.
  if (all && flags.count("wait") && flags["wait"].as<bool>()) {
    return Status::InvalidArgument("'run --all' creates many commands: drop --wait");
  }
  json body = {{"action", inv.positionals.at(0)}};
  if (all) body["all"] = true;
  if (by_agent) body["agent_id"] = flags["agent"].as<std::string>();
  if (by_service) body["service"] = flags["service"].as<std::string>();
  if (flags.count("role")) body["role"] = flags["role"].as<std::string>();
  NOA_ASSIGN_OR_RETURN(json params, commandParams(flags));
  if (!params.empty()) body["params"] = std::move(params);
  if (flags.count("timeout")) {
    const std::string& text = flags["timeout"].as<std::string>();
    Result<std::chrono::milliseconds> timeout = parseDuration(text);
    if (!timeout.ok() || timeout->count() <= 0) {
      return Status::InvalidArgument("run's --timeout must be a positive duration such as 30m, " +
                                     std::string("not '") + text + "'");
    }
    body["timeout"] = text;
  }
  return body;
}

bool isTerminalCommandState(const json& state) {
  return state == "succeeded" || state == "failed" || state == "timed_out" || state == "cancelled";
}

int Runner::runAction() {
  Result<json> request = newCommandBody(inv_);
  if (!request.ok()) {  // checked when the command line was parsed
    err_ << "noactl: " << request.status().message() << "\n";
    return kExitUsage;
  }
  return createCommand("/v1/commands", request->dump(), inv_.local["wait"].as<bool>());
}

int Runner::createCommand(const std::string& target, const std::string& body, bool wait) {
  json created;
  int http_status = 0;
  if (int code = fetch(target, created, http_status, {}, &body); code != kExitOk) return code;
  if (created.is_object() && created.contains("count")) {  // run --all: ids, one per agent
    return print(created, [](const json& b) {
      std::string out = std::to_string(b.value("count", 0)) + " commands created\n";
      for (const json& item : b.value("commands", json::array())) {
        out += item.value("id", "?") + "  " + item.value("agent_id", "?") + "\n";
      }
      return out;
    });
  }
  if (!wait) {
    return print(created, [this](const json& b) { return renderCommandRow(b, now_ms_); });
  }
  return waitForCommand(std::move(created));
}

int Runner::waitForCommand(json record) {
  if (!record.is_object() || !record.contains("id") || !record["id"].is_string()) {
    err_ << "noactl: bad response from " << client_.url().text << ": no command id\n";
    return kExitBadResponse;
  }
  const std::string id = record["id"].get<std::string>();
  // The id first: whatever happens to this process, the command can be followed.
  err_ << "noactl: " << id << " created for " << record.value("agent_id", "?") << "\n";
  const std::string target =
      "/v1/commands/" + urlEncode(id) + "?wait=" + formatDuration(kWaitSlice);
  std::string last_line;
  while (!isTerminalCommandState(stateOf(record))) {
    const auto asked = SteadyClock::now();
    int http_status = 0;
    if (int code = checkReply(client_.longPoll(target, kWaitSlice), target, record, http_status);
        code != kExitOk) {
      err_ << "noactl: stopped waiting; " << id << " goes on: follow it with 'noactl command " << id
           << "'\n";
      return code;
    }
    const std::string state = stateOf(record);
    if (state.empty()) {
      err_ << "noactl: bad response from " << client_.url().text << target << ": no state\n";
      return kExitBadResponse;
    }
    if (isTerminalCommandState(state)) break;
    if (const std::string line = commandProgressLine(record); line != last_line) {
      err_ << "noactl: " << id << " " << line << "\n";
      last_line = line;
    }
    if (SteadyClock::now() - asked < kWaitSlice / 2) std::this_thread::sleep_for(kBusyPause);
  }
  if (int code = print(record, [this](const json& b) { return renderCommand(b, now_ms_); });
      code != kExitOk) {
    return code;
  }
  const std::string state = stateOf(record);
  if (state == "succeeded") return kExitOk;
  const std::string why = failureText(record);
  err_ << "noactl: command " << id << " " << state << (why.empty() ? "" : ": " + why) << "\n";
  return kExitCommandFailed;
}

int Runner::listCommands() {
  std::string target = "/v1/commands";
  addQuery(target, inv_.local, "state");
  addQuery(target, inv_.local, "service");
  addQuery(target, inv_.local, "agent");
  addQuery(target, inv_.local, "limit");
  return show(target, [this](const json& b) { return renderCommands(b, now_ms_); });
}

int Runner::showCommand() {
  return show("/v1/commands/" + urlEncode(inv_.positionals[0]),
              [this](const json& b) { return renderCommand(b, now_ms_); });
}

int Runner::cancelCommand() {
  const std::string target = "/v1/commands/" + urlEncode(inv_.positionals[0]) + "/cancel";
  const std::string no_body;
  json reply;
  int http_status = 0;
  if (int code = fetch(target, reply, http_status, {}, &no_body); code != kExitOk) return code;
  if (int code = print(reply, [this](const json& b) { return renderCommandRow(b, now_ms_); });
      code != kExitOk) {
    return code;
  }
  if (!isTerminalCommandState(stateOf(reply))) {
    // The agent may have it already: its answer decides, so say how to see it.
    err_ << "noactl: cancel requested; the agent is told. Follow it with 'noactl command "
         << inv_.positionals[0] << "'\n";
  }
  return kExitOk;
}

}  // namespace noa::cli
