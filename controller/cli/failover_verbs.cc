// noactl's failover verbs: failover-status, switchover, failover, pause, resume, history of a
// replicated service (the leader timeline; for an agent id, its stored reports) and decisions
// (see commands.cc for usage).

#include <ostream>
#include <string>

#include "controller/cli/commands.h"
#include "controller/cli/failover_tables.h"
#include "controller/cli/runner.h"
#include "controller/cli/tables.h"

namespace noa::cli {
namespace {

using nlohmann::json;

std::string stringFlag(const po::variables_map& vm, const char* name) {
  return vm.count(name) ? vm[name].as<std::string>() : "";
}

}  // namespace

void addFailoverFlags(const std::string& command, po::options_description& desc) {
  if (command == "switchover" || command == "failover") {
    desc.add_options()("to", po::value<std::string>(),
                       command == "failover" ? "the member to promote (required)"
                                             : "the member to promote (default: the best replica)");
  } else if (command == "pause") {
    desc.add_options()("reason", po::value<std::string>(), "why (shown in status and decisions)");
  } else if (command == "decisions") {
    desc.add_options()("service", po::value<std::string>(), "only this service's decisions")(
        "kind", po::value<std::string>(), "only this kind: failover | leader | autoscale | ...")(
        "since", po::value<std::string>(), "decisions at or after T")(
        "limit", po::value<std::string>(), "at most N decisions");
  }
}

int Runner::failoverVerb() {
  const std::string& c = inv_.command;
  if (c == "decisions") {
    std::string target = "/v1/decisions";
    addQuery(target, inv_.local, "service");
    addQuery(target, inv_.local, "kind");
    addQuery(target, inv_.local, "since");
    addQuery(target, inv_.local, "limit");
    return show(target, [this](const json& b) { return renderDecisions(b, now_ms_); });
  }
  const std::string service_path = "/v1/services/" + urlEncode(inv_.positionals[0]);
  if (c == "failover-status") {
    return show(service_path + "/failover", [this](const json& b) { return renderFailover(b, now_ms_); });
  }
  json request = json::object();
  std::string verb = c;
  if (c == "switchover" || c == "failover") {
    const std::string to = stringFlag(inv_.local, "to");
    if (!to.empty()) request["to"] = to;
  } else if (c == "pause") {
    const std::string reason = stringFlag(inv_.local, "reason");
    if (!reason.empty()) request["reason"] = reason;
  }
  const std::string body_text = request.dump();
  json body;
  int http_status = 0;
  if (int code = fetch(service_path + "/" + verb, body, http_status, {}, &body_text); code != kExitOk) {
    return code;
  }
  return print(body, [this](const json& b) { return renderFailover(b, now_ms_); });
}

int Runner::history() {
  // A replicated service's leader timeline, else (404) an agent's stored reports.
  const std::string name = urlEncode(inv_.positionals[0]);
  if (!inv_.local.count("since") && !inv_.local.count("limit")) {
    auto reply = client_.get("/v1/services/" + name + "/history");
    if (reply.ok() && reply->status == 200) {
      json body;
      int http_status = 0;
      if (int code = checkReply(reply, "/v1/services/" + name + "/history", body, http_status);
          code != kExitOk) {
        return code;
      }
      return print(body, [this](const json& b) { return renderLeaderHistory(b, now_ms_); });
    }
  }
  std::string target = "/v1/agents/" + name + "/history";
  addQuery(target, inv_.local, "since");
  addQuery(target, inv_.local, "limit");
  return show(target, renderHistory);
}

}  // namespace noa::cli
