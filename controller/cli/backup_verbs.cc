// noactl's backup verbs: backup now|list|show|restore|verify|pin|status and drill (see
// commands.cc for usage). Those that create a command (now, restore, verify, drill) print it
// as `run` does, and with --wait follow it the same way (exit 5 unless it succeeded).

#include <algorithm>
#include <array>
#include <ostream>
#include <string>
#include <string_view>

#include "controller/cli/backup_tables.h"
#include "controller/cli/commands.h"
#include "controller/cli/runner.h"

namespace noa::cli {
namespace {

using nlohmann::json;

struct BackupVerb {
  std::string_view name;
  bool takes_argument;     // SERVICE (now) or ID (show, restore, verify, pin)
  std::string_view flags;  // its own flags, space separated
  std::string_view synopsis;
};

constexpr std::array<BackupVerb, 7> kBackupVerbs = {{
    {"now", true, "policy wait", "backup now SERVICE [--policy P] [--wait]"},
    {"list", false, "service status policy limit",
     "backup list [--service S] [--status S] [--policy P] [--limit N]"},
    {"show", true, "", "backup show ID"},
    {"restore", true, "target-db swap wait", "backup restore ID --target-db DB [--swap] [--wait]"},
    {"verify", true, "wait", "backup verify ID [--wait]"},
    {"pin", true, "unpin", "backup pin ID [--unpin]"},
    {"status", false, "", "backup status"},
}};

// Every flag some backup verb has (a bool switch counts as given only when set).
constexpr std::array<std::string_view, 8> kBackupFlagNames = {
    "policy", "wait", "service", "status", "limit", "target-db", "swap", "unpin"};

const BackupVerb* findVerb(std::string_view name) {
  for (const BackupVerb& verb : kBackupVerbs) {
    if (verb.name == name) return &verb;
  }
  return nullptr;
}

bool hasFlag(std::string_view flags, std::string_view name) {
  size_t start = 0;
  while (start <= flags.size()) {
    const size_t end = std::min(flags.find(' ', start), flags.size());
    if (flags.substr(start, end - start) == name) return true;
    start = end + 1;
  }
  return false;
}

bool flagGiven(const po::variables_map& vm, std::string_view name) {
  auto it = vm.find(std::string(name));
  return it != vm.end() && !it->second.defaulted();
}

std::string stringFlag(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : "";
}

bool switchFlag(const po::variables_map& vm, const char* name) {
  return vm.count(name) && vm[name].as<bool>();
}

}  // namespace

void addBackupFlags(const std::string& command, po::options_description& desc) {
  if (command == "drill") {
    desc.add_options()("wait", po::bool_switch(),
                       "follow the drill to its end; exit 5 unless it succeeded");
    return;
  }
  if (command != "backup") return;
  desc.add_options()("policy", po::value<std::string>(),
                     "now: the service's backup policy to run (default: its first pg_dump one);\n"
                     "list: only this policy's backups")("service", po::value<std::string>(),
                                                         "list: only this service's backups")(
      "status", po::value<std::string>(),
      "list: only backups in this status: available | failed | pruned | corrupt")(
      "limit", po::value<std::string>(), "list: at most N backups (1..1000, default 100)")(
      "target-db", po::value<std::string>(), "restore: the database to restore into")(
      "swap", po::bool_switch(), "restore: then give the restored database the target's name")(
      "unpin", po::bool_switch(), "pin: unpin it instead (retention may prune it again)")(
      "wait", po::bool_switch(),
      "now, restore, verify: follow the command to its end; exit 5 unless it succeeded");
}

Status checkBackupInvocation(const Invocation& inv) {
  const std::string usage = "backup now|list|show|restore|verify|pin|status (see 'noactl --help')";
  if (inv.positionals.empty()) return Status::InvalidArgument("'backup' takes a verb: " + usage);
  const BackupVerb* verb = findVerb(inv.positionals[0]);
  if (verb == nullptr) {
    return Status::InvalidArgument(
        "'backup' takes now, list, show, restore, verify, pin or "
        "status, not '" +
        inv.positionals[0] + "'");
  }
  const size_t want = verb->takes_argument ? 2 : 1;
  if (inv.positionals.size() != want) {
    return Status::InvalidArgument("'backup " + std::string(verb->name) + "' takes " +
                                   (want == 1 ? "no argument" : "one argument") + ": " +
                                   std::string(verb->synopsis));
  }
  for (std::string_view flag : kBackupFlagNames) {
    if (flagGiven(inv.local, flag) && !hasFlag(verb->flags, flag)) {
      return Status::InvalidArgument("--" + std::string(flag) + " does not go with 'backup " +
                                     std::string(verb->name) + "': " + std::string(verb->synopsis));
    }
  }
  if (verb->name == "restore" && stringFlag(inv.local, "target-db").empty()) {
    return Status::InvalidArgument("'backup restore' needs --target-db DB: " +
                                   std::string(verb->synopsis));
  }
  return Status::Ok();
}

int Runner::backup() {
  const std::string& verb = inv_.positionals[0];
  const po::variables_map& flags = inv_.local;
  const bool wait = switchFlag(flags, "wait");
  if (verb == "list") {
    std::string target = "/v1/backups";
    for (const char* name : {"service", "status", "policy", "limit"}) addQuery(target, flags, name);
    return show(target, [this](const json& b) { return renderBackups(b, now_ms_); });
  }
  if (verb == "status") {
    return show("/v1/backups/status",
                [this](const json& b) { return renderBackupStatus(b, now_ms_); });
  }
  if (verb == "now") {
    json body = {{"service", inv_.positionals[1]}};
    if (flags.count("policy")) body["policy"] = stringFlag(flags, "policy");
    return createCommand("/v1/backups", body.dump(), wait);
  }
  const std::string target = "/v1/backups/" + urlEncode(inv_.positionals[1]);
  if (verb == "show") {
    return show(target, [this](const json& b) { return renderBackup(b, now_ms_); });
  }
  if (verb == "restore") {
    const json body = {{"target_db", stringFlag(flags, "target-db")},
                       {"swap", switchFlag(flags, "swap")}};
    return createCommand(target + "/restore", body.dump(), wait);
  }
  if (verb == "verify") return createCommand(target + "/verify", "", wait);
  // pin
  const std::string body = json({{"pinned", !switchFlag(flags, "unpin")}}).dump();
  json reply;
  int http_status = 0;
  if (int code = fetch(target + "/pin", reply, http_status, {}, &body); code != kExitOk) {
    return code;
  }
  return print(reply, [this](const json& b) { return renderBackupRow(b, now_ms_); });
}

int Runner::drill() {
  const std::string body = json({{"service", inv_.positionals[0]}}).dump();
  return createCommand("/v1/backups/drills", body, switchFlag(inv_.local, "wait"));
}

}  // namespace noa::cli
