#include "controller/cli/admin_tables.h"

#include "controller/cli/tables.h"

namespace noa::cli {
namespace {

using nlohmann::json;

std::string text(const json& object, const char* key) { return fieldText(object, key); }

std::string claimed(const json& key) {
  const auto it = key.find("claimed");
  if (it == key.end() || !it->is_object()) return "-";
  std::string out = text(*it, "agent_id");
  const std::string service = text(*it, "service");
  const std::string host = text(*it, "host");
  if (service != "-" || host != "-") out += " " + service + "@" + host;
  return out;
}

Result<Row> keyRow(const json& key, int64_t now_ms) {
  if (!key.is_object()) return Status::InvalidArgument("expected a key object");
  const auto last_seen = key.find("last_seen");
  return Row{text(key, "key_id"),   text(key, "state"),
             text(key, "agent_id"), claimed(key),
             text(key, "address"),  last_seen == key.end() ? "-" : formatAge(*last_seen, now_ms),
             text(key, "attempts")};
}

const Row kKeyHeader = {"KEY-ID", "STATE", "AGENT", "CLAIMED", "ADDRESS", "LAST-SEEN", "ATTEMPTS"};

}  // namespace

Result<std::string> renderKeys(const json& body, int64_t now_ms) {
  if (!body.is_object() || !body.contains("keys") || !body["keys"].is_array()) {
    return Status::InvalidArgument("expected an array \"keys\" in the response");
  }
  std::vector<Row> rows;
  for (const json& key : body["keys"]) {
    NOA_ASSIGN_OR_RETURN(Row row, keyRow(key, now_ms));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return std::string("no keys\n");
  return renderTable(kKeyHeader, rows);
}

Result<std::string> renderKey(const json& key, int64_t now_ms) {
  NOA_ASSIGN_OR_RETURN(Row row, keyRow(key, now_ms));
  return renderTable(kKeyHeader, {row});
}

Result<std::string> renderAudit(const json& body) {
  if (!body.is_object() || !body.contains("entries") || !body["entries"].is_array()) {
    return Status::InvalidArgument("expected an array \"entries\" in the response");
  }
  std::vector<Row> rows;
  for (const json& e : body["entries"]) {
    if (!e.is_object()) return Status::InvalidArgument("expected audit entries to be objects");
    rows.push_back({text(e, "ts"), text(e, "actor"), text(e, "role"), text(e, "method"),
                    text(e, "path"), text(e, "status"), text(e, "detail")});
  }
  if (rows.empty()) return std::string("no audit entries\n");
  return renderTable({"TIME", "ACTOR", "ROLE", "METHOD", "PATH", "STATUS", "DETAIL"}, rows);
}

}  // namespace noa::cli
