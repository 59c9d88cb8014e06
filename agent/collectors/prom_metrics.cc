#include "agent/collectors/prom_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string_view>

#include "common/protocol/metric_names.h"

namespace noa::agent {
namespace {

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}
bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string perSecondName(std::string_view name) {
  if (endsWith(name, "_total")) name.remove_suffix(std::string_view("_total").size());
  return std::string(name) + std::string(metric_names::kPerSecondSuffix);
}

// name{a="1",b="2"} with labels sorted, so the same series has the same key whatever order the
// endpoint writes its labels in. '\xff' cannot appear in names and ends each value.
std::string seriesKey(const PromSample& sample) {
  auto labels = sample.labels;
  std::sort(labels.begin(), labels.end());
  std::string key = sample.name;
  for (const auto& [name, value] : labels) {
    key += '\xff';
    key += name;
    key += '=';
    key += value;
  }
  return key;
}

struct Sum {
  double total = 0;
  bool any = false;
  void add(double v) {
    total += v;
    any = true;
  }
};

// Per histogram/summary family: rates of _sum and _count over all its series.
struct Observations {
  Sum sum_rate;
  Sum count_rate;
};

}  // namespace

bool PromMetrics::allowed(const PromSample& sample) const {
  if (selection_.allowlist.empty()) return true;
  for (const std::string& entry : selection_.allowlist) {
    if (!entry.empty() && entry.back() == '*') {
      const std::string_view prefix(entry.data(), entry.size() - 1);
      if (startsWith(sample.name, prefix) || startsWith(sample.family, prefix)) return true;
    } else if (entry == sample.name || entry == sample.family) {
      return true;
    }
  }
  return false;
}

PromMetrics::Derived PromMetrics::derive(const std::vector<PromSample>& samples, MonoTime now) {
  std::map<std::string, Sum> values;
  std::map<std::string, Observations> observations;
  std::unordered_set<std::string> keys;
  Derived out;
  auto rateOf = [&](const PromSample& sample) -> std::optional<double> {
    std::string key = seriesKey(sample);
    const std::optional<double> rate = rates_.update(key, sample.value, now);
    keys.insert(std::move(key));
    return rate;
  };

  for (const PromSample& sample : samples) {
    if (!allowed(sample)) continue;
    ++out.allowed_samples;
    if (!std::isfinite(sample.value)) continue;
    const std::string_view suffix = promSeriesSuffix(sample);
    switch (sample.type) {
      case PromType::kCounter:
        if (suffix == "_created") break;
        if (auto rate = rateOf(sample)) values[perSecondName(sample.name)].add(*rate);
        break;
      case PromType::kHistogram:
      case PromType::kSummary: {
        if (suffix != "_sum" && suffix != "_count") break;
        const std::optional<double> rate = rateOf(sample);
        Observations& obs = observations[sample.family];
        if (rate) (suffix == "_sum" ? obs.sum_rate : obs.count_rate).add(*rate);
        break;
      }
      case PromType::kGauge:
        values[sample.name].add(sample.value);
        break;
      case PromType::kUntyped:
        // By naming convention a _total series is a counter, typed or not.
        if (endsWith(sample.name, "_total")) {
          if (auto rate = rateOf(sample)) values[perSecondName(sample.name)].add(*rate);
        } else {
          values[sample.name].add(sample.value);
        }
        break;
    }
  }
  for (const auto& [family, obs] : observations) {
    if (obs.count_rate.any) values[family + "_count_per_second"].add(obs.count_rate.total);
    if (obs.count_rate.any && obs.sum_rate.any && obs.count_rate.total > 0) {
      values[family + "_mean"].add(obs.sum_rate.total / obs.count_rate.total);
    }
  }

  // Series that went away would otherwise hold memory (and a stale base) until they return.
  for (const std::string& old_key : rate_keys_) {
    if (!keys.contains(old_key)) rates_.forget(old_key);
  }
  rate_keys_ = std::move(keys);

  for (const auto& [name, sum] : values) {
    if (!sum.any) continue;
    if (out.metrics.size() >= selection_.max_metrics) {
      ++out.dropped;
      continue;
    }
    out.metrics.push_back(protocol::Metric{name, sum.total});
  }
  return out;
}

}  // namespace noa::agent
