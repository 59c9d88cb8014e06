#pragma once

// noactl's human-readable output: aligned tables and "key: value" blocks rendered from the REST
// API's JSON. A response of the wrong shape is InvalidArgument (noactl exits 4); a missing or
// null field shows as "-".

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace noa::cli {

using Row = std::vector<std::string>;

// Columns padded to their widest cell and separated by two spaces; no trailing spaces.
std::string renderTable(const Row& header, const std::vector<Row>& rows);

// The array `key` of a list response, one row per element (`row_of(element)` returns
// Result<Row>), or `empty_text` when there is none.
template <class RowOf>
Result<std::string> renderRows(const nlohmann::json& body, const char* key, const Row& header,
                               const char* empty_text, RowOf row_of) {
  const auto it = body.is_object() ? body.find(key) : body.end();
  if (it == body.end() || !it->is_array()) {
    return Status::InvalidArgument(std::string("expected an array \"") + key + "\"");
  }
  std::vector<Row> rows;
  for (const nlohmann::json& element : *it) {
    NOA_ASSIGN_OR_RETURN(Row row, row_of(element));
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return std::string(empty_text);
  return renderTable(header, rows);
}

// A field as table text: strings as they are ("-" when empty, missing or null), numbers
// without quotes, booleans as yes/no.
std::string fieldText(const nlohmann::json& object, const char* key);
// "key:  value" lines with the values aligned.
std::string renderKeyValues(const std::vector<std::pair<std::string, std::string>>& lines);

// "12s ago", "5m ago", ...; "-" for null; the text itself when it is not RFC 3339.
std::string formatAge(const nlohmann::json& timestamp, int64_t now_ms);
// A span in its largest whole unit: "45s", "12m", "3h", "2d".
std::string formatSeconds(int64_t seconds);
// The same for unix ms: "12s ago", or "in 5m" for a time still ahead.
std::string formatRelativeMs(int64_t ts_ms, int64_t now_ms);

// Each takes the body of the matching REST call; `now_ms` is for ages ("3s ago").
Result<std::string> renderStatus(const nlohmann::json& health, int64_t now_ms);
Result<std::string> renderAgents(const nlohmann::json& agents, int64_t now_ms);
Result<std::string> renderAgent(const nlohmann::json& agent, int64_t now_ms);
Result<std::string> renderServices(const nlohmann::json& services);
// GET /v1/services/{name} as `patronictl list` shows a cluster: aggregate lines, then MEMBER
// HOST ROLE STATE HEALTH LAG, then the summed / averaged metrics.
Result<std::string> renderService(const nlohmann::json& service);
// GET /v1/services as one line per service: REPLICAS READY CPU(AVG/MAX) MEM(AVG/MAX) RPS (the
// summed *requests_per_second) and the other summed *_per_second rates.
Result<std::string> renderTop(const nlohmann::json& services);
Result<std::string> renderHistory(const nlohmann::json& history);
Result<std::string> renderMetricSeries(const nlohmann::json& series);

// "12.5%" from a ratio; "-" for null.
std::string formatPercent(const nlohmann::json& ratio);
// "0 B", "512 B", "4.0 KiB", "1.5 MiB", ...; "-" for null.
std::string formatBytes(const nlohmann::json& bytes);
// "12", "0.25", "1.5k", "3.2M": short numbers for narrow columns; "-" for null.
std::string formatNumber(const nlohmann::json& value);

}  // namespace noa::cli
