#include "controller/cli/tables.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string_view>

#include "controller/api/time_param.h"

namespace noa::cli {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) { return fieldText(object, key); }

const json& member(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

Result<const json*> arrayField(const json& body, const char* key) {
  const json& value = member(body, key);
  if (!value.is_array()) {
    return Status::InvalidArgument(std::string("expected an array \"") + key +
                                   "\" in the response");
  }
  return &value;
}

Status expectObject(const json& body, const char* what) {
  if (!body.is_object()) return Status::InvalidArgument(std::string("expected ") + what);
  return Status::Ok();
}

std::string withAge(const json& timestamp, int64_t now_ms) {
  if (!timestamp.is_string()) return "-";
  return timestamp.get<std::string>() + " (" + formatAge(timestamp, now_ms) + ")";
}

std::string printf1(const char* format, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, value);
  return buf;
}

// "avg/max" of an Aggregate as percentages, "-" when nothing was counted.
std::string percentPair(const json& aggregate) {
  const json& avg = member(aggregate, "avg");
  if (!avg.is_number()) return "-";
  return formatPercent(avg) + "/" + formatPercent(member(aggregate, "max"));
}

std::string percentLine(const json& aggregate) {
  const json& avg = member(aggregate, "avg");
  if (!avg.is_number()) return "-";
  const std::string count = text(aggregate, "count");
  return "avg " + formatPercent(avg) + ", max " + formatPercent(member(aggregate, "max")) +
         " over " + count + (count == "1" ? " replica" : " replicas");
}

constexpr std::string_view kPerSecond = "_per_second";
constexpr std::string_view kRequestsPerSecond = "requests_per_second";

std::string lagText(const json& m) {
  const json& bytes = member(m, "lag_bytes");
  const json& seconds = member(m, "lag_seconds");
  if (!bytes.is_number() && !seconds.is_number()) return "-";
  std::string out = bytes.is_number() ? formatBytes(bytes) : "";
  if (seconds.is_number()) {
    const std::string s = formatNumber(seconds) + "s";
    out = out.empty() ? s : out + " (" + s + ")";
  }
  return out;
}

}  // namespace

std::string fieldText(const json& object, const char* key) {
  if (!object.is_object()) return "-";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "-";
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    return s.empty() ? "-" : s;
  }
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string renderTable(const Row& header, const std::vector<Row>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const Row& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  for (const Row& row : rows) measure(row);
  std::ostringstream out;
  auto line = [&](const Row& row) {
    std::string text_line;
    for (size_t i = 0; i < widths.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      text_line += cell;
      if (i + 1 < widths.size()) text_line += std::string(widths[i] - cell.size() + 2, ' ');
    }
    while (!text_line.empty() && text_line.back() == ' ') text_line.pop_back();
    out << text_line << "\n";
  };
  line(header);
  for (const Row& row : rows) line(row);
  return out.str();
}

std::string renderKeyValues(const std::vector<std::pair<std::string, std::string>>& lines) {
  size_t width = 0;
  for (const auto& [key, value] : lines) width = std::max(width, key.size() + 1);
  std::ostringstream out;
  for (const auto& [key, value] : lines) {
    out << key << ":" << std::string(width - key.size() - 1 + 2, ' ') << value << "\n";
  }
  return out.str();
}

std::string formatAge(const json& timestamp, int64_t now_ms) {
  if (!timestamp.is_string()) return "-";
  const std::string& value = timestamp.get_ref<const std::string&>();
  Result<int64_t> ms = controller::api::parseRfc3339(value);
  if (!ms.ok()) return value;
  const int64_t age_ms = std::max<int64_t>(0, now_ms - *ms);
  return formatSeconds(age_ms / 1000) + " ago";
}

std::string formatSeconds(int64_t seconds) {
  if (seconds < 60) return std::to_string(seconds) + "s";
  if (seconds < 3600) return std::to_string(seconds / 60) + "m";
  if (seconds < 86400) return std::to_string(seconds / 3600) + "h";
  return std::to_string(seconds / 86400) + "d";
}

std::string formatRelativeMs(int64_t ts_ms, int64_t now_ms) {
  // noactl reads its clock once, before the request: what happened while it waited for the
  // answer is a few ms "ahead" and reads as now, not "in 0s".
  if (ts_ms >= now_ms + 1000) return "in " + formatSeconds((ts_ms - now_ms) / 1000);
  return formatSeconds(std::max<int64_t>(0, now_ms - ts_ms) / 1000) + " ago";
}

Result<std::string> renderStatus(const json& health, int64_t now_ms) {
  NOA_RETURN_IF_ERROR(expectObject(health, "a health object"));
  const json& store = member(health, "store");
  std::string store_text = text(store, "status");
  if (store_text == "error") store_text += ": " + text(store, "error");
  const json& agents = member(health, "agents");
  const json& liveness = member(health, "liveness");
  std::string uptime = "-";
  if (member(health, "uptime_s").is_number_integer()) {
    uptime = formatSeconds(member(health, "uptime_s").get<int64_t>());
  }
  return renderKeyValues({
      {"status", text(health, "status")},
      {"controller", text(health, "controller_id") + " (version " + text(health, "version") + ")"},
      {"started", withAge(member(health, "started_at"), now_ms) + ", up " + uptime},
      {"store", store_text},
      {"agents", text(agents, "total") + " total, " + text(agents, "alive") + " alive, " +
                     text(agents, "suspect") + " suspect, " + text(agents, "lost") + " lost"},
      {"liveness", "report every " + text(liveness, "report_interval_ms") + "ms, suspect after " +
                       text(liveness, "suspect_after_intervals") + ", lost after " +
                       text(liveness, "lost_after_intervals") + " missed intervals"},
      {"agent endpoint", text(health, "agent_endpoint")},
  });
}

Result<std::string> renderAgents(const json& body, int64_t now_ms) {
  NOA_ASSIGN_OR_RETURN(const json* agents, arrayField(body, "agents"));
  if (agents->empty()) return std::string("no agents\n");
  std::vector<Row> rows;
  for (const json& a : *agents) {
    rows.push_back({text(a, "id"), text(a, "service"), text(a, "kind"), text(a, "state"),
                    text(member(a, "health"), "state"), text(a, "role"),
                    formatAge(member(a, "last_seen"), now_ms), text(a, "last_seq")});
  }
  return renderTable({"ID", "SERVICE", "KIND", "STATE", "HEALTH", "ROLE", "LAST-SEEN", "SEQ"},
                     rows);
}

Result<std::string> renderAgent(const json& agent, int64_t now_ms) {
  NOA_RETURN_IF_ERROR(expectObject(agent, "an agent object"));
  const json& health = member(agent, "health");
  std::string capabilities;
  for (const json& c : member(agent, "capabilities")) {
    if (!capabilities.empty()) capabilities += ", ";
    capabilities += c.is_string() ? c.get<std::string>() : c.dump();
  }
  std::ostringstream out;
  out << renderKeyValues({
      {"id", text(agent, "id")},
      {"service", text(agent, "service") + " (kind " + text(agent, "kind") + ")"},
      {"host", text(agent, "host")},
      {"state", text(agent, "state") + " since " + withAge(member(agent, "state_since"), now_ms)},
      {"health", text(health, "state") + " (live " + text(health, "live") + ", ready " +
                     text(health, "ready") + ", started " + text(health, "started") + ")"},
      {"role", text(agent, "role")},
      {"last seen", withAge(member(agent, "last_seen"), now_ms)},
      {"last seq", text(agent, "last_seq")},
      {"last report", withAge(member(agent, "last_report_at"), now_ms)},
      {"session started", withAge(member(agent, "session_started_at"), now_ms)},
      {"registered", withAge(member(agent, "registered_at"), now_ms)},
      {"agent", "version " + text(agent, "agent_version") + ", pid " + text(agent, "pid") +
                    ", reports every " + text(agent, "report_interval_ms") + "ms"},
      {"capabilities", capabilities.empty() ? "-" : capabilities},
  });
  const json& probes = member(health, "probes");
  if (probes.is_array() && !probes.empty()) {
    std::vector<Row> rows;
    for (const json& p : probes) {
      rows.push_back({text(p, "name"), text(p, "kind"), text(p, "state"),
                      text(p, "consecutive_successes"), text(p, "consecutive_failures"),
                      text(p, "latency_us") + "us", text(p, "detail")});
    }
    out << "\n" << renderTable({"PROBE", "KIND", "STATE", "OK", "FAIL", "LATENCY", "DETAIL"}, rows);
  }
  const json& metrics = member(agent, "metrics");
  if (metrics.is_object() && !metrics.empty()) {
    std::vector<Row> rows;
    for (const auto& [name, value] : metrics.items()) {
      rows.push_back({name, value.is_null() ? "-" : value.dump()});
    }
    out << "\n" << renderTable({"METRIC", "VALUE"}, rows);
  }
  const json& attributes = member(agent, "attributes");
  if (attributes.is_object() && !attributes.empty()) {
    std::vector<Row> rows;
    for (const auto& [name, value] : attributes.items()) {
      rows.push_back({name, value.is_string() ? value.get<std::string>() : value.dump()});
    }
    out << "\n" << renderTable({"ATTRIBUTE", "VALUE"}, rows);
  }
  return out.str();
}

Result<std::string> renderServices(const json& body) {
  NOA_ASSIGN_OR_RETURN(const json* services, arrayField(body, "services"));
  if (services->empty()) return std::string("no services\n");
  std::vector<Row> rows;
  for (const json& s : *services) {
    std::string members;
    for (const json& m : member(s, "members")) {
      if (!members.empty()) members += ",";
      members += text(m, "id");
    }
    rows.push_back({text(s, "name"), text(s, "kind"), text(s, "agents"), text(s, "alive"),
                    text(s, "suspect"), text(s, "lost"), text(s, "healthy"), text(s, "ready"),
                    members.empty() ? "-" : members});
  }
  return renderTable(
      {"NAME", "KIND", "AGENTS", "ALIVE", "SUSPECT", "LOST", "HEALTHY", "READY", "MEMBERS"}, rows);
}

std::string formatPercent(const json& ratio) {
  if (!ratio.is_number()) return "-";
  return printf1("%.1f%%", ratio.get<double>() * 100);
}

std::string formatBytes(const json& bytes) {
  if (!bytes.is_number()) return "-";
  double value = bytes.get<double>();
  if (std::fabs(value) < 1024) return printf1("%.0f B", value);
  for (const char* unit : {" KiB", " MiB", " GiB", " TiB"}) {
    value /= 1024;
    if (std::fabs(value) < 1024 || std::string_view(unit) == " TiB") {
      return printf1("%.1f", value) + unit;
    }
  }
  return "-";
}

std::string formatNumber(const json& value) {
  if (!value.is_number()) return "-";
  const double v = value.get<double>();
  const double a = std::fabs(v);
  if (a >= 1e9) return printf1("%.1fG", v / 1e9);
  if (a >= 1e6) return printf1("%.1fM", v / 1e6);
  if (a >= 1e4) return printf1("%.1fk", v / 1e3);
  if (v == std::floor(v)) return printf1("%.0f", v);
  std::string out = printf1(a >= 100 ? "%.1f" : "%.2f", v);
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

Result<std::string> renderService(const json& service) {
  NOA_RETURN_IF_ERROR(expectObject(service, "a service object"));
  NOA_ASSIGN_OR_RETURN(const json* members, arrayField(service, "members"));
  std::vector<std::pair<std::string, std::string>> lines = {
      {"service", text(service, "name") + " (kind " + text(service, "kind") + ")"},
      {"replicas", text(service, "agents") + " known, " + text(service, "alive") + " alive, " +
                       text(service, "suspect") + " suspect, " + text(service, "lost") + " lost; " +
                       text(service, "ready") + " ready, " + text(service, "healthy") + " healthy"},
  };
  const json& replication = member(service, "replication");
  if (replication.is_object()) {
    std::string primary = text(replication, "primary");
    const json& primaries = member(replication, "primaries");
    if (primaries.is_array() && primaries.size() > 1) {
      primary = "conflict:";
      for (const json& p : primaries)
        primary += " " + (p.is_string() ? p.get<std::string>() : p.dump());
    } else if (primary == "-") {
      primary = "none";
    }
    lines.push_back({"primary", primary});
    lines.push_back({"max lag", formatBytes(member(replication, "max_lag_bytes"))});
  }
  lines.push_back({"cpu", percentLine(member(service, "cpu_ratio"))});
  lines.push_back({"memory", percentLine(member(service, "memory_ratio"))});
  std::ostringstream out;
  out << renderKeyValues(lines);

  std::vector<Row> rows;
  for (const json& m : *members) {
    rows.push_back({text(m, "id"), text(m, "host"), text(m, "role"), text(m, "state"),
                    text(m, "health"), lagText(m)});
  }
  out << "\n" << renderTable({"MEMBER", "HOST", "ROLE", "STATE", "HEALTH", "LAG"}, rows);

  const json& metrics = member(service, "metrics");
  if (metrics.is_object() && !metrics.empty()) {
    std::vector<Row> metric_rows;
    for (const auto& [name, aggregate] : metrics.items()) {
      metric_rows.push_back({name, formatNumber(member(aggregate, "sum")),
                             formatNumber(member(aggregate, "avg")),
                             formatNumber(member(aggregate, "max")), text(aggregate, "count")});
    }
    out << "\n" << renderTable({"METRIC", "SUM", "AVG", "MAX", "REPLICAS"}, metric_rows);
  }
  return out.str();
}

Result<std::string> renderTop(const json& body) {
  NOA_ASSIGN_OR_RETURN(const json* services, arrayField(body, "services"));
  if (services->empty()) return std::string("no services\n");
  std::vector<Row> rows;
  for (const json& s : *services) {
    std::optional<double> rps;
    std::string rates;
    const json& metrics = member(s, "metrics");
    if (metrics.is_object()) {
      for (const auto& [name, aggregate] : metrics.items()) {
        const json& sum = member(aggregate, "sum");
        if (!sum.is_number() || !std::string_view(name).ends_with(kPerSecond)) continue;
        if (std::string_view(name).ends_with(kRequestsPerSecond)) {
          rps = rps.value_or(0) + sum.get<double>();
          continue;
        }
        if (!rates.empty()) rates += " ";
        rates += name.substr(0, name.size() - kPerSecond.size()) + "=" + formatNumber(sum) + "/s";
      }
    }
    rows.push_back({text(s, "name"), text(s, "agents"), text(s, "ready"),
                    percentPair(member(s, "cpu_ratio")), percentPair(member(s, "memory_ratio")),
                    rps ? formatNumber(*rps) : "-", rates.empty() ? "-" : rates});
  }
  return renderTable(
      {"SERVICE", "REPLICAS", "READY", "CPU(AVG/MAX)", "MEM(AVG/MAX)", "RPS", "RATES"}, rows);
}

Result<std::string> renderMetricSeries(const json& body) {
  NOA_ASSIGN_OR_RETURN(const json* points, arrayField(body, "points"));
  if (points->empty()) {
    return "no values of " + text(body, "name") + " for agent " + text(body, "agent") + "\n";
  }
  std::vector<Row> rows;
  for (const json& p : *points) {
    const json& value = member(p, "value");
    rows.push_back({text(p, "ts"), value.is_number() ? value.dump() : text(p, "value")});
  }
  return renderTable({"TIME", "VALUE"}, rows);
}

Result<std::string> renderHistory(const json& body) {
  NOA_ASSIGN_OR_RETURN(const json* entries, arrayField(body, "entries"));
  if (entries->empty()) return "no history for agent " + text(body, "agent") + "\n";
  std::vector<Row> rows;
  for (const json& e : *entries) {
    const json& report = member(e, "report");
    const json& health = member(report, "health");
    rows.push_back({text(e, "ts"), text(e, "seq"), text(health, "state"), text(health, "live"),
                    text(health, "ready"), text(report, "role")});
  }
  return renderTable({"TIME", "SEQ", "HEALTH", "LIVE", "READY", "ROLE"}, rows);
}

}  // namespace noa::cli
