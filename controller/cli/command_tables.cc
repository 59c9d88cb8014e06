#include "controller/cli/command_tables.h"

#include <vector>

#include "common/clock.h"
#include "controller/cli/tables.h"

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

// A unix-ms member as "TIME (12s ago)"; "-" when absent or 0 (= none).
std::string timeText(const json& object, const char* key, int64_t now_ms) {
  const json& value = member(object, key);
  if (!value.is_number_integer() || value.get<int64_t>() == 0) return "-";
  const int64_t ms = value.get<int64_t>();
  return formatRfc3339(fromUnixMillis(ms)) + " (" + formatRelativeMs(ms, now_ms) + ")";
}

std::string ageText(const json& object, const char* key, int64_t now_ms) {
  const json& value = member(object, key);
  if (!value.is_number_integer() || value.get<int64_t>() == 0) return "-";
  return formatRelativeMs(value.get<int64_t>(), now_ms);
}

Result<Row> commandRow(const json& c, int64_t now_ms) {
  if (!c.is_object()) return Status::InvalidArgument("expected a command object");
  return Row{text(c, "id"),
             text(c, "agent_id"),
             text(c, "action"),
             text(c, "state"),
             ageText(c, "created_ms", now_ms),
             text(c, "attempts"),
             text(member(c, "result"), "error_code")};
}

const Row kCommandHeader = {"ID", "AGENT", "ACTION", "STATE", "AGE", "ATTEMPTS", "ERROR"};

std::string targetText(const json& c) {
  std::string out = text(c, "agent_id");
  const std::string service = text(c, "service");
  const std::string role = text(c, "role");
  if (service != "-") out += " (" + service + (role != "-" ? ", " + role : "") + ")";
  return out;
}

std::string progressText(const json& progress) {
  if (!progress.is_object()) return "";
  std::string out = text(progress, "phase");
  const json& done = member(progress, "bytes_done");
  const json& total = member(progress, "bytes_total_estimate");
  if (done.is_number() && (done.get<double>() > 0 || total.is_number())) {
    out += " " + formatBytes(done);
    if (total.is_number() && total.get<double>() > 0) out += " of ~" + formatBytes(total);
  }
  return out;
}

std::string resultText(const json& result) {
  if (!result.is_object()) return "-";
  std::string out = text(result, "status");
  const std::string code = text(result, "error_code");
  const std::string error = text(result, "error");
  if (code != "-") out += " (" + code + ")";
  if (error != "-") out += ": " + error;
  out += ", code " + text(result, "code") + ", took " + text(result, "duration_ms") + "ms";
  return out;
}

}  // namespace

Result<std::string> renderCommands(const json& body, int64_t now_ms) {
  return renderRows(body, "commands", kCommandHeader, "no commands\n",
                    [now_ms](const json& c) { return commandRow(c, now_ms); });
}

Result<std::string> renderCommandRow(const json& command, int64_t now_ms) {
  NOA_ASSIGN_OR_RETURN(Row row, commandRow(command, now_ms));
  return renderTable(kCommandHeader, {row});
}

Result<std::string> renderCommand(const json& c, int64_t now_ms) {
  if (!c.is_object()) return Status::InvalidArgument("expected a command object");
  std::string state = text(c, "state");
  if (member(c, "cancel_requested") == true) state += " (cancel requested)";
  std::string sent = text(c, "attempts");
  if (member(c, "last_sent_ms").is_number_integer() && member(c, "last_sent_ms") != 0) {
    sent += ", last sent " + ageText(c, "last_sent_ms", now_ms);
  }
  const json& params = member(c, "params");
  const json& progress = member(c, "progress");
  std::vector<std::pair<std::string, std::string>> lines = {
      {"id", text(c, "id")},
      {"action", text(c, "action")},
      {"target", targetText(c)},
      {"params", params.is_object() && !params.empty()
                     ? params.dump(-1, ' ', false, json::error_handler_t::replace)
                     : "-"},
      {"state", state},
      {"created", timeText(c, "created_ms", now_ms) + " by " + text(c, "created_by") +
                      (member(c, "origin").is_string() ? " for " + text(c, "origin") : "")},
      {"deadline", timeText(c, "deadline_ms", now_ms)},
      {"attempts", sent},
  };
  if (progress.is_object()) {
    lines.emplace_back("progress",
                       progressText(progress) + " (" + ageText(progress, "ts_ms", now_ms) + ")");
  }
  lines.emplace_back("result", resultText(member(c, "result")));
  std::string out = renderKeyValues(lines);

  const json& history = member(c, "history");
  if (history.is_array() && !history.empty()) {
    std::vector<Row> rows;
    for (const json& h : history) {
      if (!h.is_object()) return Status::InvalidArgument("expected history items to be objects");
      const json& ts = member(h, "ts_ms");
      rows.push_back(
          {ts.is_number_integer() ? formatRfc3339(fromUnixMillis(ts.get<int64_t>())) : "-",
           text(h, "state"), text(h, "detail")});
    }
    out += "\nHISTORY\n" + renderTable({"TIME", "STATE", "DETAIL"}, rows);
  }
  const json& output = member(member(c, "result"), "output");
  if (output.is_object() && !output.empty()) {
    out += "\nOUTPUT\n" + output.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  }
  return out;
}

std::string commandProgressLine(const json& c) {
  std::string line = text(c, "state");
  if (member(c, "cancel_requested") == true) line += " (cancel requested)";
  const std::string progress = progressText(member(c, "progress"));
  if (!progress.empty()) line += ": " + progress;
  return line;
}

}  // namespace noa::cli
