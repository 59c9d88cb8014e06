#include "controller/failover/member_state.h"

#include <algorithm>
#include <charconv>

#include "controller/registry/service_view.h"

namespace noa::controller::failover {
namespace {

std::string attr(const AgentRecord& r, const char* key) {
  auto it = r.last_report.attributes.find(key);
  return it == r.last_report.attributes.end() ? std::string() : it->second;
}

std::optional<uint64_t> parseUnsigned(const std::string& text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

int parsePort(const std::string& text) {
  auto v = parseUnsigned(text);
  return v && *v > 0 && *v < 65536 ? static_cast<int>(*v) : 0;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::optional<uint64_t> parsePosition(const std::string& kind, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (kind == "postgres") return parseLsn(text);
  return parseUnsigned(text);
}

MemberState memberFromRecord(const AgentRecord& r, int64_t now_ms, int64_t stale_after_ms) {
  MemberState m;
  m.agent_id = r.hello.agent_id;
  m.kind = r.hello.kind;
  m.last_seen_ms = r.last_seen_ms;
  m.reachable = r.liveness == Liveness::kAlive && now_ms - r.last_seen_ms <= stale_after_ms;
  if (!r.has_report) return m;
  const auto& report = r.last_report;
  m.role = report.role;
  m.live = report.health.live;
  m.process_exited = attr(r, "service_process") == "exited";
  m.fenced = attr(r, "fenced");
  m.fence_applied = attr(r, "fence_applied") == "1";
  m.lease_valid = attr(r, "lease_valid") == "1";
  m.lease_epoch = parseUnsigned(attr(r, "lease_epoch")).value_or(0);
  m.timeline = attr(r, "timeline");
  m.endpoint_host = attr(r, "endpoint_host");
  m.endpoint_port = parsePort(attr(r, "endpoint_port"));
  if (m.kind == "postgres") {
    if (m.role == "replica") {
      auto receive = parseLsn(attr(r, "receive_lsn"));
      auto replay = parseLsn(attr(r, "replay_lsn"));
      if (receive || replay) {
        m.position = std::max(receive.value_or(0), replay.value_or(0));
        m.position_text = receive.value_or(0) >= replay.value_or(0) ? attr(r, "receive_lsn")
                                                                    : attr(r, "replay_lsn");
      }
    } else {
      m.position = parseLsn(attr(r, "lsn"));
      m.position_text = attr(r, "lsn");
    }
    m.replica_names = splitList(attr(r, "replica_names"));
    m.sync_standbys = splitList(attr(r, "sync_standbys"));
  } else {
    m.position_text = m.role == "replica" && !attr(r, "slave_repl_offset").empty()
                          ? attr(r, "slave_repl_offset")
                          : attr(r, "master_repl_offset");
    m.position = parseUnsigned(m.position_text);
    m.upstream_host = attr(r, "master_host");
    m.upstream_port = parsePort(attr(r, "master_port"));
    m.upstream_up = attr(r, "master_link_status") == "up";
  }
  return m;
}

}  // namespace noa::controller::failover
