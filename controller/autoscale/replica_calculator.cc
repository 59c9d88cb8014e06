#include "controller/autoscale/replica_calculator.h"

#include <cmath>
#include <numeric>

#include "common/protocol/metric_names.h"

namespace noa::controller::autoscale {
namespace {

namespace names = noa::metric_names;

std::optional<double> find(const ReplicaSample& r, std::string_view name) {
  if (!r.has_metrics) return std::nullopt;
  auto it = r.metrics.find(std::string(name));
  if (it == r.metrics.end() || !std::isfinite(it->second)) return std::nullopt;
  return it->second;
}

int64_t milli(double v) { return std::llround(v * 1000.0); }

// One replica's usage and "request" (its limit) for a resource, in integer units. `usage`
// unset: no sample. `request` unset: no limit known.
struct ResourceSample {
  std::optional<int64_t> usage;
  std::optional<int64_t> request;
};

ResourceSample resourceSample(const ReplicaSample& r, const std::string& resource) {
  ResourceSample s;
  if (resource == "cpu") {
    auto cores = find(r, names::kCpuUsageCores);
    auto limit = find(r, names::kCpuLimitCores);
    if (limit && *limit > 0) s.request = milli(*limit);
    if (cores && s.request) {
      s.usage = milli(*cores);
    } else if (auto ratio = find(r, names::kCpuUsageRatioOfLimit)) {
      s.usage = milli(*ratio);
      s.request = 1000;
    } else if (cores) {
      // A process without a CPU limit: share of one core, as the service view shows it.
      s.usage = milli(*cores);
      s.request = 1000;
    }
    return s;
  }
  auto bytes = find(r, names::kMemoryBytes);
  auto limit = find(r, names::kMemoryLimitBytes);
  if (limit && *limit > 0) s.request = std::llround(*limit);
  if (bytes && s.request) {
    s.usage = std::llround(*bytes);
  } else if (auto ratio = find(r, names::kMemoryUsageRatio)) {
    s.usage = std::llround(*ratio * 1e6);
    s.request = 1'000'000;
  } else if (bytes) {
    s.usage = std::llround(*bytes);  // no limit: usable for AverageValue targets only
  }
  return s;
}

// The raw per-replica value in milli-units for Pods metrics and Resource AverageValue targets.
std::optional<int64_t> plainValue(const ReplicaSample& r, const MetricSpec& spec) {
  if (spec.type == MetricSourceType::kPods) {
    auto v = find(r, spec.name);
    return v ? std::optional<int64_t>(milli(*v)) : std::nullopt;
  }
  auto v = find(r, spec.name == "cpu" ? names::kCpuUsageCores : names::kMemoryBytes);
  return v ? std::optional<int64_t>(milli(*v)) : std::nullopt;
}

enum class Group { kReady, kUnready, kMissing, kIgnored };

// Kubernetes' groupPods: the Ready condition matters for CPU only (a replica warming up burns
// CPU that says nothing about steady load).
Group classify(const ReplicaSample& r, bool has_sample, bool cpu, const CalcContext& ctx) {
  if (r.phase == ReplicaPhase::kFailed) return Group::kIgnored;
  if (r.phase == ReplicaPhase::kPending) return Group::kUnready;
  if (!has_sample) return Group::kMissing;
  if (!cpu) return Group::kReady;
  if (!r.has_ready_condition || !r.started_ms) return Group::kUnready;
  bool unready;
  if (*r.started_ms + ctx.cpu_initialization_period_ms > ctx.now_ms) {
    unready = !r.ready || r.sample_ms < r.ready_transition_ms + r.window_ms;
  } else {
    unready = !r.ready && *r.started_ms + ctx.initial_readiness_delay_ms > r.ready_transition_ms;
  }
  return unready ? Group::kUnready : Group::kReady;
}

struct Entry {
  int64_t usage = 0;
  int64_t request = 0;
};

// Resource utilization: floor(100 * sum usage / sum request) in percent, then / target.
double utilizationRatio(const std::vector<Entry>& sample, double target, int64_t* util_out) {
  int64_t used = 0, requested = 0;
  for (const Entry& e : sample) {
    used += e.usage;
    requested += e.request;
  }
  const int64_t util = requested > 0 ? (used * 100) / requested : 0;
  if (util_out) *util_out = util;
  return static_cast<double>(util) / target;
}

// Average value: floor(sum / count) in milli-units, then / target.
double averageRatio(const std::vector<Entry>& sample, int64_t target_milli, int64_t* avg_out) {
  int64_t total = 0;
  for (const Entry& e : sample) total += e.usage;
  const int64_t avg = sample.empty() ? 0 : total / static_cast<int64_t>(sample.size());
  if (avg_out) *avg_out = avg;
  return static_cast<double>(avg) / static_cast<double>(target_milli);
}

MetricProposal fail(MetricProposal p, const MetricSpec& spec, std::string why) {
  p.ok = false;
  p.error = std::move(why);
  switch (spec.type) {
    case MetricSourceType::kResource:
      p.condition_reason = "FailedGetResourceMetric";
      break;
    case MetricSourceType::kPods:
      p.condition_reason = "FailedGetPodsMetric";
      break;
    case MetricSourceType::kExternal:
      p.condition_reason = "FailedGetExternalMetric";
      break;
  }
  return p;
}

int32_t ceilReplicas(double v) {
  if (!std::isfinite(v) || v <= 0) return 0;
  return v > 1e9 ? 1'000'000'000 : static_cast<int32_t>(std::ceil(v));
}

MetricProposal podsProposal(const MetricSpec& spec, const std::vector<ReplicaSample>& replicas,
                            const CalcContext& ctx) {
  MetricProposal p;
  p.metric = spec.label();
  p.target = spec.target;
  const bool utilization = spec.target_type == MetricTargetType::kUtilization;
  const bool cpu = spec.type == MetricSourceType::kResource && spec.name == "cpu";
  if (replicas.empty()) return fail(p, spec, "no replicas to take " + p.metric + " from");

  std::vector<Entry> ready;
  std::vector<Entry> unready;  // value 0 with the replica's request, used on a scale-up only
  std::vector<Entry> missing;  // request only
  std::vector<int64_t> known_requests;
  std::vector<std::optional<int64_t>> missing_requests, unready_requests;
  for (const ReplicaSample& r : replicas) {
    std::optional<int64_t> usage;
    std::optional<int64_t> request;
    if (utilization) {
      ResourceSample s = resourceSample(r, spec.name);
      usage = s.usage;
      request = s.request;
      if (usage && !request) {
        return fail(p, spec,
                    "replica " + r.id + " reports no " + spec.name +
                        " limit (utilization is a share of the limit)");
      }
    } else {
      usage = plainValue(r, spec);
      request = 1;
    }
    if (request && usage) known_requests.push_back(*request);
    switch (classify(r, usage.has_value(), cpu, ctx)) {
      case Group::kIgnored:
        ++p.ignored;
        break;
      case Group::kUnready:
        ++p.unready;
        unready_requests.push_back(request);
        break;
      case Group::kMissing:
        ++p.missing;
        missing_requests.push_back(request);
        break;
      case Group::kReady:
        ready.push_back({*usage, *request});
        break;
    }
  }
  p.ready = ready.size();
  if (ready.empty()) {
    return fail(
        p, spec,
        "did not receive " + p.metric + " for any targeted replica (replicas might be unready)");
  }
  // A replica without a sample has no limit known either: assume the average of the others.
  const int64_t fallback_request =
      std::accumulate(known_requests.begin(), known_requests.end(), int64_t{0}) /
      static_cast<int64_t>(known_requests.size());
  const int64_t target_milli = utilization ? 0 : milli(spec.target);
  auto ratioOf = [&](const std::vector<Entry>& sample, double* current) {
    int64_t value = 0;
    const double r = utilization ? utilizationRatio(sample, spec.target, &value)
                                 : averageRatio(sample, target_milli, &value);
    if (current) *current = utilization ? static_cast<double>(value) : value / 1000.0;
    return r;
  };
  const double ratio = ratioOf(ready, &p.current);
  p.ratio = ratio;
  p.ok = true;
  const bool up_with_unready = p.unready > 0 && ratio > 1.0;
  if (!up_with_unready && p.missing == 0) {
    if (ctx.tolerances.within(ratio)) {
      p.replicas = ctx.current_replicas;
      p.note = "within tolerance";
    } else {
      p.replicas = ceilReplicas(ratio * static_cast<double>(ready.size()));
    }
    return p;
  }
  std::vector<Entry> sample = ready;
  if (p.missing > 0 && ratio != 1.0) {
    for (const auto& req : missing_requests) {
      const int64_t request = req.value_or(fallback_request);
      if (ratio > 1.0) {
        sample.push_back({0, request});
      } else if (utilization) {
        // On a scale-down a silent replica is assumed busy: max(100 %, target) of its limit.
        const int64_t fill = std::max<int64_t>(100, static_cast<int64_t>(spec.target));
        sample.push_back({request * fill / 100, request});
      } else {
        sample.push_back({target_milli, request});
      }
    }
  }
  if (up_with_unready) {
    for (const auto& req : unready_requests) sample.push_back({0, req.value_or(fallback_request)});
  }
  const double new_ratio = ratioOf(sample, nullptr);
  p.ratio = new_ratio;
  if (ctx.tolerances.within(new_ratio)) {
    p.replicas = ctx.current_replicas;
    p.note = "within tolerance once missing/unready replicas are counted";
    return p;
  }
  if ((ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)) {
    p.replicas = ctx.current_replicas;
    p.note = "direction flipped once missing/unready replicas are counted";
    return p;
  }
  const int32_t n = ceilReplicas(new_ratio * static_cast<double>(sample.size()));
  if ((new_ratio < 1.0 && n > ctx.current_replicas) ||
      (new_ratio > 1.0 && n < ctx.current_replicas)) {
    p.replicas = ctx.current_replicas;
    p.note = "proposal would move against the metric";
    return p;
  }
  p.replicas = n;
  return p;
}

MetricProposal externalProposal(const MetricSpec& spec, const std::vector<ReplicaSample>& replicas,
                                std::optional<double> value, const CalcContext& ctx) {
  MetricProposal p;
  p.metric = spec.label();
  p.target = spec.target;
  if (!value) {
    const std::string from = spec.from_service.empty() ? "this service" : spec.from_service;
    return fail(p, spec, "no agent of " + from + " reports " + spec.name);
  }
  p.ok = true;
  p.current = *value;
  if (spec.target_type == MetricTargetType::kAverageValue) {
    const double status = static_cast<double>(ctx.status_replicas);
    p.ratio = *value / (spec.target * status);
    const bool within = status > 0 && ctx.tolerances.within(p.ratio);
    p.replicas = within ? ctx.status_replicas : ceilReplicas(*value / spec.target);
    if (within) p.note = "within tolerance";
    return p;
  }
  p.ratio = *value / spec.target;
  if (ctx.current_replicas == 0) {
    p.replicas = ceilReplicas(p.ratio);
    p.note = "scale from zero";
    return p;
  }
  if (ctx.tolerances.within(p.ratio)) {
    p.replicas = ctx.current_replicas;
    p.note = "within tolerance";
    return p;
  }
  size_t ready_running = 0;
  for (const ReplicaSample& r : replicas) {
    if (r.phase == ReplicaPhase::kRunning && r.has_ready_condition && r.ready) ++ready_running;
  }
  p.ready = ready_running;
  p.replicas = ceilReplicas(p.ratio * static_cast<double>(ready_running));
  return p;
}

}  // namespace

MetricProposal proposeReplicas(const MetricSpec& spec, const std::vector<ReplicaSample>& replicas,
                               std::optional<double> external_value, const CalcContext& ctx) {
  if (spec.type == MetricSourceType::kExternal) {
    return externalProposal(spec, replicas, external_value, ctx);
  }
  return podsProposal(spec, replicas, ctx);
}

}  // namespace noa::controller::autoscale
