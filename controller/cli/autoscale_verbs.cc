// noactl's autoscale verbs (see commands.cc for usage):
//   autoscale SERVICE                 the policy, mode, replicas, conditions, proposals and the
//                                     last decisions (GET /v1/services/S/autoscale)
//   autoscale pause|resume SERVICE    stop / restart actuating (operator)
//   scale SERVICE N [--ttl D]         a manual override to N replicas until D has passed
//                                     (default 1h; operator)
// `noactl decisions --service S --kind autoscale` lists the full decision records.

#include <cstdio>
#include <ostream>
#include <string>

#include "controller/cli/commands.h"
#include "controller/cli/runner.h"
#include "controller/cli/tables.h"

namespace noa::cli {

using nlohmann::json;

void addAutoscaleFlags(const std::string& command, po::options_description& desc) {
  if (command == "scale") {
    desc.add_options()("ttl", po::value<std::string>(),
                       "how long the override lasts (e.g. 30m, 2h; default 1h), after which the "
                       "autoscaler takes over again");
  }
}

namespace {

// 70 rather than 70.0, 0.5 as 0.5: targets and measurements are doubles in the JSON.
std::string numberText(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) {
    return fieldText(object, key);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", object[key].get<double>());
  return buf;
}

std::string conditionText(const json& conditions, const char* type) {
  if (!conditions.is_object() || !conditions.contains(type)) return "-";
  const json& c = conditions[type];
  return fieldText(c, "status") + " " + fieldText(c, "reason");
}

std::string proposalText(const json& p) {
  if (!p.value("ok", false)) return fieldText(p, "error");
  std::string text = numberText(p, "current") + " vs " + numberText(p, "target") + " -> " +
                     fieldText(p, "replicas");
  if (p.contains("note")) text += " (" + fieldText(p, "note") + ")";
  return text;
}

}  // namespace

Result<std::string> renderAutoscale(const json& s, int64_t now_ms) {
  if (!s.is_object() || !s.contains("policy") || !s["policy"].is_object()) {
    return Status::InvalidArgument("expected an autoscale state with \"policy\"");
  }
  const json& policy = s["policy"];
  std::string metrics;
  for (const json& m : policy.value("metrics", json::array())) {
    metrics += (metrics.empty() ? "" : ", ") + fieldText(m, "metric") + " " +
               fieldText(m, "target_type") + " " + numberText(m, "target");
  }
  std::string mode = fieldText(s, "mode");
  if (s.contains("override") && s["override"].is_object()) {
    mode += " to " + fieldText(s["override"], "replicas") + " by " +
            fieldText(s["override"], "by") + ", ends " +
            formatRelativeMs(s["override"].value("until_ms", int64_t{0}), now_ms);
  } else if (s.contains("paused") && s["paused"].is_object()) {
    mode += " by " + fieldText(s["paused"], "by") + " " +
            formatRelativeMs(s["paused"].value("at_ms", int64_t{0}), now_ms);
  }
  const json conditions = s.value("conditions", json::object());
  const json actuator = s.value("actuator", json::object());
  std::vector<std::pair<std::string, std::string>> lines = {
      {"service", fieldText(s, "service")},
      {"mode", mode},
      {"replicas", fieldText(s, "current_replicas") + " current, " +
                       fieldText(s, "desired_replicas") + " desired (min " +
                       fieldText(policy, "min_replicas") + ", max " +
                       fieldText(policy, "max_replicas") + ")"},
      {"metrics", metrics.empty() ? "-" : metrics},
      {"behavior",
       policy.contains("behavior") && policy["behavior"].is_object() ? "set" : "legacy (none)"},
      {"actuator", fieldText(actuator, "type") +
                       (actuator.value("failures", 0) > 0
                            ? " (" + fieldText(actuator, "failures") +
                                  " failures: " + fieldText(actuator, "last_error") + ")"
                            : "")},
      {"AbleToScale", conditionText(conditions, "AbleToScale")},
      {"ScalingActive", conditionText(conditions, "ScalingActive")},
      {"ScalingLimited", conditionText(conditions, "ScalingLimited")},
      {"limiting rule", fieldText(s, "limiting_rule")},
      {"last", fieldText(s, "last_reason")},
  };
  std::string out = renderKeyValues(lines);
  std::vector<Row> proposals;
  for (const json& p : s.value("proposals", json::array())) {
    proposals.push_back({fieldText(p, "metric"), proposalText(p), fieldText(p, "ready"),
                         fieldText(p, "unready"), fieldText(p, "missing")});
  }
  if (!proposals.empty()) {
    out += "\n" + renderTable({"METRIC", "PROPOSAL", "READY", "UNREADY", "MISSING"}, proposals);
  }
  std::vector<Row> recent;
  for (const json& r : s.value("recent_decisions", json::array())) {
    recent.push_back({formatRelativeMs(r.value("at_ms", int64_t{0}), now_ms),
                      fieldText(r, "action"), fieldText(r, "reason")});
  }
  if (!recent.empty()) out += "\n" + renderTable({"WHEN", "ACTION", "REASON"}, recent);
  return out;
}

int Runner::autoscaleVerb() {
  const std::string& c = inv_.command;
  auto render = [this](const json& b) { return renderAutoscale(b, now_ms_); };
  if (c == "scale") {
    const std::string& service = inv_.positionals.at(0);
    const std::string& count = inv_.positionals.at(1);
    json body;
    try {
      size_t used = 0;
      const long n = std::stol(count, &used);
      if (used != count.size() || n < 0) throw std::invalid_argument(count);
      body["replicas"] = n;
    } catch (const std::exception&) {
      err_ << "noactl: 'scale' takes a replica count (a whole number >= 0), not '" << count
           << "'\n";
      return kExitUsage;
    }
    if (inv_.local.count("ttl")) body["ttl"] = inv_.local["ttl"].as<std::string>();
    const std::string text = body.dump();
    json reply;
    int http_status = 0;
    const std::string target = "/v1/services/" + urlEncode(service) + "/scale";
    if (int code = fetch(target, reply, http_status, {}, &text); code != kExitOk) return code;
    return print(reply, render);
  }
  // autoscale SERVICE | autoscale pause|resume SERVICE
  if (inv_.positionals.size() == 1 &&
      (inv_.positionals[0] == "pause" || inv_.positionals[0] == "resume")) {
    err_ << "noactl: 'autoscale " << inv_.positionals[0] << "' needs a SERVICE\n";
    return kExitUsage;
  }
  if (inv_.positionals.size() == 1) {
    return show("/v1/services/" + urlEncode(inv_.positionals[0]) + "/autoscale", render);
  }
  const std::string& verb = inv_.positionals[0];
  if (verb != "pause" && verb != "resume") {
    err_ << "noactl: 'autoscale' takes SERVICE, or pause|resume SERVICE, not '" << verb << "'\n";
    return kExitUsage;
  }
  const std::string target =
      "/v1/services/" + urlEncode(inv_.positionals[1]) + "/autoscale/" + verb;
  const std::string empty = "{}";
  json reply;
  int http_status = 0;
  if (int code = fetch(target, reply, http_status, {}, &empty); code != kExitOk) return code;
  return print(reply, render);
}

}  // namespace noa::cli
