#include "controller/registry/service_view.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace noa::controller {
namespace {

using MetricMap = std::map<std::string, double, std::less<>>;

// A name reported twice keeps its last value (as the REST views do); NaN and infinities are
// dropped so one odd sample cannot poison an average.
MetricMap metricMap(const protocol::Report& report) {
  MetricMap out;
  for (const protocol::Metric& m : report.metrics) {
    if (std::isfinite(m.value)) {
      out[m.name] = m.value;
    } else {
      out.erase(m.name);
    }
  }
  return out;
}

std::optional<double> find(const MetricMap& metrics, std::string_view name) {
  auto it = metrics.find(name);
  if (it == metrics.end()) return std::nullopt;
  return it->second;
}

const std::string* attribute(const AgentRecord& agent, const char* key) {
  const auto& attributes = agent.last_report.attributes;
  auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : &it->second;
}

std::optional<double> parseDouble(const std::string* text) {
  if (text == nullptr || text->empty()) return std::nullopt;
  double value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<uint64_t> parseUnsigned(const std::string* text, int base = 10) {
  if (text == nullptr || text->empty()) return std::nullopt;
  uint64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value, base);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> cpuRatio(const MetricMap& metrics) {
  if (auto ratio = find(metrics, metric_names::kCpuUsageRatioOfLimit)) return ratio;
  return find(metrics, metric_names::kCpuUsageCores);
}

std::optional<double> memoryRatio(const MetricMap& metrics) {
  if (auto ratio = find(metrics, metric_names::kMemoryUsageRatio)) return ratio;
  auto bytes = find(metrics, metric_names::kMemoryBytes);
  auto limit = find(metrics, metric_names::kMemoryLimitBytes);
  if (!bytes || !limit || *limit <= 0) return std::nullopt;
  return *bytes / *limit;
}

int64_t clampedDifference(uint64_t ahead, uint64_t behind) {
  if (behind >= ahead) return 0;  // reports are sampled at different times
  const uint64_t diff = ahead - behind;
  return diff > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? std::numeric_limits<int64_t>::max()
             : static_cast<int64_t>(diff);
}

// Bytes the replica is behind the primary, from their last reports' positions.
std::optional<int64_t> computedLag(const AgentRecord& primary, const AgentRecord& replica) {
  if (const std::string* primary_lsn = attribute(primary, "lsn")) {
    const std::string* replay = attribute(replica, "replay_lsn");
    if (replay == nullptr) replay = attribute(replica, "lsn");
    auto ahead = parseLsn(*primary_lsn);
    auto behind = replay ? parseLsn(*replay) : std::nullopt;
    if (ahead && behind) return clampedDifference(*ahead, *behind);
  }
  if (auto ahead = parseUnsigned(attribute(primary, "master_repl_offset"))) {
    auto behind = parseUnsigned(attribute(replica, "slave_repl_offset"));
    if (!behind) behind = parseUnsigned(attribute(replica, "master_repl_offset"));
    if (behind) return clampedDifference(*ahead, *behind);
  }
  return std::nullopt;
}

void add(Aggregate& aggregate, double value) {
  aggregate.max = aggregate.count == 0 ? value : std::max(aggregate.max, value);
  ++aggregate.count;
  aggregate.sum += value;
  aggregate.avg = aggregate.sum / static_cast<double>(aggregate.count);
}

bool hasReplication(const std::string& kind) { return kind == "postgres" || kind == "redis"; }

}  // namespace

std::string_view lagSourceName(LagSource source) {
  switch (source) {
    case LagSource::kNone:
      return "";
    case LagSource::kAgent:
      return "agent";
    case LagSource::kComputed:
      return "computed";
  }
  return "";
}

std::optional<uint64_t> parseLsn(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string high(text.substr(0, slash));
  const std::string low(text.substr(slash + 1));
  auto hi = parseUnsigned(&high, 16);
  auto lo = parseUnsigned(&low, 16);
  constexpr uint64_t kMax32 = 0xFFFFFFFFu;
  if (!hi || !lo || *hi > kMax32 || *lo > kMax32) return std::nullopt;
  return (*hi << 32) + *lo;
}

namespace {

ServiceView summarize(std::vector<const AgentRecord*> sorted) {
  ServiceView view;
  if (sorted.empty()) return view;
  std::sort(sorted.begin(), sorted.end(), [](const AgentRecord* a, const AgentRecord* b) {
    return a->hello.agent_id < b->hello.agent_id;
  });
  view.name = sorted.front()->hello.service;
  view.kind = sorted.front()->hello.kind;
  view.known = sorted.size();

  bool replicated = false;
  std::vector<const AgentRecord*> primaries;
  for (const AgentRecord* agent : sorted) {
    MemberView m;
    m.agent_id = agent->hello.agent_id;
    m.host = agent->hello.host;
    m.kind = agent->hello.kind;
    m.liveness = agent->liveness;
    if (agent->hello.kind != view.kind) view.kind = "mixed";
    if (hasReplication(agent->hello.kind)) replicated = true;
    switch (agent->liveness) {
      case Liveness::kAlive:
        ++view.alive;
        break;
      case Liveness::kSuspect:
        ++view.suspect;
        break;
      case Liveness::kLost:
        ++view.lost;
        break;
    }
    const bool lost = agent->liveness == Liveness::kLost;
    if (agent->has_report) {
      const protocol::Report& report = agent->last_report;
      m.health = report.health.state;
      m.role = report.role;
      if (!m.role.empty()) replicated = true;
      m.ready = report.health.ready && !lost;
      m.counted = m.ready && agent->liveness == Liveness::kAlive;
      if (!lost) {
        const MetricMap metrics = metricMap(report);
        m.cpu_ratio = cpuRatio(metrics);
        m.memory_ratio = memoryRatio(metrics);
        if (m.counted) {
          if (m.cpu_ratio) add(view.cpu_ratio, *m.cpu_ratio);
          if (m.memory_ratio) add(view.memory_ratio, *m.memory_ratio);
          for (const auto& [name, value] : metrics) add(view.metrics[name], value);
        }
        if (m.role == "primary") primaries.push_back(agent);
      }
    }
    if (!lost && m.health == "healthy") ++view.healthy;
    if (m.ready) ++view.ready;
    if (m.counted) ++view.counted;
    view.members.push_back(std::move(m));
  }

  if (!replicated) return view;
  ReplicationView replication;
  for (const AgentRecord* p : primaries) replication.primaries.push_back(p->hello.agent_id);
  if (primaries.size() == 1) replication.primary = primaries.front()->hello.agent_id;
  for (size_t i = 0; i < sorted.size(); ++i) {
    const AgentRecord& agent = *sorted[i];
    MemberView& m = view.members[i];
    if (m.role != "replica" || agent.liveness == Liveness::kLost) continue;
    replication.replicas.push_back(m.agent_id);
    if (auto bytes = parseDouble(attribute(agent, "replication_lag_bytes")); bytes && *bytes >= 0) {
      // Doubles at or above 2^63 do not convert; no real lag is near that.
      m.lag_bytes =
          *bytes < 9e18 ? static_cast<int64_t>(*bytes) : std::numeric_limits<int64_t>::max();
      m.lag_source = LagSource::kAgent;
    } else if (primaries.size() == 1) {
      m.lag_bytes = computedLag(*primaries.front(), agent);
      if (m.lag_bytes) m.lag_source = LagSource::kComputed;
    }
    if (auto seconds = parseDouble(attribute(agent, "replication_lag_seconds"));
        seconds && *seconds >= 0) {
      m.lag_seconds = seconds;
      if (m.lag_source == LagSource::kNone) m.lag_source = LagSource::kAgent;
    }
    if (m.lag_bytes) {
      replication.max_lag_bytes = std::max(replication.max_lag_bytes.value_or(0), *m.lag_bytes);
    }
  }
  view.replication = std::move(replication);
  return view;
}

}  // namespace

ServiceView summarizeService(const std::vector<AgentRecord>& members) {
  std::vector<const AgentRecord*> pointers;
  for (const AgentRecord& r : members) pointers.push_back(&r);
  return summarize(std::move(pointers));
}

std::vector<ServiceView> summarizeServices(const std::vector<AgentRecord>& agents) {
  std::map<std::string, std::vector<const AgentRecord*>> by_service;
  for (const AgentRecord& agent : agents) by_service[agent.hello.service].push_back(&agent);
  std::vector<ServiceView> out;
  out.reserve(by_service.size());
  for (auto& [name, members] : by_service) out.push_back(summarize(std::move(members)));
  return out;
}

}  // namespace noa::controller
