#include "controller/api/agent_json.h"

#include <cmath>

#include "common/clock.h"

namespace noa::controller::api {

using nlohmann::json;

namespace {

json attributesJson(const std::map<std::string, std::string>& attributes) {
  json out = json::object();
  for (const auto& [key, value] : attributes) out[key] = value;
  return out;
}

}  // namespace

json timestampJson(int64_t unix_ms) {
  if (unix_ms == 0) return nullptr;
  return formatRfc3339(fromUnixMillis(unix_ms));
}

json healthJson(const protocol::Health& health) {
  json probes = json::array();
  for (const auto& p : health.probes) {
    probes.push_back({{"name", p.name},
                      {"kind", p.kind},
                      {"state", p.state},
                      {"consecutive_successes", p.consecutive_successes},
                      {"consecutive_failures", p.consecutive_failures},
                      {"latency_us", p.latency_us},
                      {"detail", p.detail}});
  }
  return {{"state", health.state},
          {"live", health.live},
          {"ready", health.ready},
          {"started", health.started},
          {"probes", std::move(probes)}};
}

json metricsJson(const std::vector<protocol::Metric>& metrics) {
  json out = json::object();
  for (const auto& m : metrics) out[m.name] = m.value;
  return out;
}

json reportJson(const protocol::Report& report) {
  return {{"seq", report.seq},
          {"health", healthJson(report.health)},
          {"role", report.role},
          {"metrics", metricsJson(report.metrics)},
          {"attributes", attributesJson(report.attributes)}};
}

std::string healthState(const AgentRecord& agent) {
  return agent.has_report ? agent.last_report.health.state : std::string("unknown");
}

json agentJson(const AgentRecord& agent) {
  const protocol::Hello& hello = agent.hello;
  // Without a report the health is the protocol's default: state "unknown", nothing ready.
  const protocol::Report no_report;
  const protocol::Report& report = agent.has_report ? agent.last_report : no_report;
  return {{"id", hello.agent_id},
          {"service", hello.service},
          {"kind", hello.kind},
          {"host", hello.host},
          {"agent_version", hello.agent_version},
          {"pid", hello.pid},
          {"capabilities", hello.capabilities},
          {"report_interval_ms", hello.report_interval_ms},
          {"state", livenessName(agent.liveness)},
          {"state_since", timestampJson(agent.liveness_changed_ms)},
          {"registered_at", timestampJson(agent.registered_at_ms)},
          {"session_started_at", timestampJson(agent.session_started_ms)},
          {"last_seen", timestampJson(agent.last_seen_ms)},
          {"last_seq", agent.last_seq},
          {"role", report.role},
          {"health", healthJson(report.health)},
          {"metrics", metricsJson(report.metrics)},
          {"attributes", attributesJson(report.attributes)},
          {"last_report_at", agent.has_report ? timestampJson(agent.last_report_ts_ms) : nullptr}};
}

json historyEntryJson(const HistoryEntry& entry) {
  return {
      {"ts", timestampJson(entry.ts_ms)}, {"seq", entry.seq}, {"report", reportJson(entry.report)}};
}

std::optional<double> metricValue(const protocol::Report& report, std::string_view name) {
  std::optional<double> value;
  for (const auto& m : report.metrics) {
    if (m.name == name) value = m.value;
  }
  if (value && !std::isfinite(*value)) return std::nullopt;
  return value;
}

}  // namespace noa::controller::api
