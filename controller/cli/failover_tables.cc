#include "controller/cli/failover_tables.h"

#include "controller/cli/tables.h"

namespace noa::cli {
namespace {

using nlohmann::json;

std::string memberState(const json& m) {
  if (!m.value("reachable", false)) return "unreachable";
  if (m.value("service_process", "") == "exited") return "stopped";
  return m.value("live", false) ? "running" : "failing";
}

}  // namespace

Result<std::string> renderFailover(const json& body, int64_t now_ms) {
  if (!body.is_object()) return Status::InvalidArgument("expected an object");
  std::string transition = "-";
  if (body.contains("transition") && body["transition"].is_object()) {
    const json& t = body["transition"];
    transition = fieldText(t, "kind") + " (phase " + fieldText(t, "phase") + ", candidate " +
                 fieldText(t, "candidate") + ", started " + formatAge(t.value("started", json()), now_ms) +
                 "): " + fieldText(t, "reason");
  }
  std::string out = renderKeyValues({
      {"service", fieldText(body, "service")},
      {"leader", fieldText(body, "leader")},
      {"epoch", fieldText(body, "epoch")},
      {"since", formatAge(body.value("since", json()), now_ms)},
      {"health", fieldText(body, "leader_health")},
      {"lease", body.value("lease_valid", false) ? "valid" : "expired"},
      {"paused", body.value("paused", false) ? "yes (" + fieldText(body, "paused_reason") + ")" : "no"},
      {"transition", transition},
  });
  NOA_ASSIGN_OR_RETURN(
      std::string members,
      renderRows(body, "members", {"MEMBER", "ROLE", "STATE", "POSITION", "TL", "FENCED", "ENDPOINT"},
                 "no members", [&](const json& m) -> Result<Row> {
                   if (!m.is_object()) return Status::InvalidArgument("member: expected an object");
                   std::string role = fieldText(m, "role");
                   if (m.value("member", "") == body.value("leader", std::string())) role += " (leader)";
                   return Row{fieldText(m, "member"), role, memberState(m), fieldText(m, "position"),
                              fieldText(m, "timeline"), fieldText(m, "fenced"), fieldText(m, "endpoint")};
                 }));
  return out + "\n" + members;
}

Result<std::string> renderLeaderHistory(const json& body, int64_t now_ms) {
  return renderRows(body, "history",
                    {"EPOCH", "LEADER", "SINCE", "KIND", "PREVIOUS", "POSITION", "REASON"},
                    "no leaders yet", [&](const json& h) -> Result<Row> {
                      if (!h.is_object()) return Status::InvalidArgument("history: expected an object");
                      return Row{fieldText(h, "epoch"), fieldText(h, "leader"),
                                 formatAge(h.value("since", json()), now_ms), fieldText(h, "kind"),
                                 fieldText(h, "previous"), fieldText(h, "position"),
                                 fieldText(h, "reason")};
                    });
}

Result<std::string> renderDecisions(const json& body, int64_t now_ms) {
  return renderRows(body, "decisions", {"TIME", "SERVICE", "KIND", "ACTION", "REASON"},
                    "no decisions", [&](const json& d) -> Result<Row> {
                      if (!d.is_object()) return Status::InvalidArgument("decision: expected an object");
                      return Row{formatAge(d.value("at", json()), now_ms), fieldText(d, "service"),
                                 fieldText(d, "kind"), fieldText(d, "action"), fieldText(d, "reason")};
                    });
}

}  // namespace noa::cli
