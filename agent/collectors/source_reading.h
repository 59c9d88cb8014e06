#pragma once

// What one metrics source (cgroup, process tree, Prometheus endpoint) produced in one collection.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/protocol/messages.h"
#include "common/status.h"

namespace noa::agent {

struct SourceReading {
  // What could be measured, even when `status` says something was missing.
  std::vector<protocol::Metric> metrics;
  // OK, or the first thing that could not be read; its message is meant for people and names
  // the file, PID or URL (e.g. "/sys/fs/cgroup/x/memory.max: not found").
  Status status;

  void add(std::string_view name, double value) {
    metrics.push_back(protocol::Metric{std::string(name), value});
  }
  // Keeps the first problem: later ones are usually its consequences.
  void note(Status problem) {
    if (status.ok()) status = std::move(problem);
  }
};

}  // namespace noa::agent
