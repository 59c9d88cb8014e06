#pragma once

// A StateView with fixed data for REST and noactl tests. Thread-safe: the server reads it from
// its pool threads while the test changes it between requests. enableCommands() attaches a real
// CommandBook over a real store in a temporary directory (the command channel); enableBackups()
// adds a real BackupCatalog and BackupCoordinator over the same store.

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/api/state_view.h"
#include "controller/backups/backup_catalog.h"
#include "controller/backups/backup_coordinator.h"
#include "controller/backups/backup_policy.h"
#include "controller/commands/command_book.h"
#include "controller/store/store.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::testing {

using controller::AgentRecord;
using controller::ControllerInfo;
using controller::HistoryEntry;
using controller::Liveness;

inline constexpr int64_t kT0 = 1'790'000'000'000;  // FakeClock's wall time at start

// An agent with a report (health "healthy", ready, one probe, two metrics) unless
// `health_state` is empty.
inline AgentRecord makeAgent(const std::string& id, const std::string& service,
                             const std::string& kind, Liveness liveness,
                             const std::string& health_state = "healthy",
                             const std::string& role = "") {
  AgentRecord a;
  a.hello.agent_id = id;
  a.hello.service = service;
  a.hello.kind = kind;
  a.hello.host = "host-" + id;
  a.hello.agent_version = "0.1.0";
  a.hello.capabilities = {"promote", "snapshot"};
  a.hello.pid = 4242;
  a.hello.report_interval_ms = 1000;
  a.liveness = liveness;
  a.registered_at_ms = kT0 - 60'000;
  a.session_started_ms = kT0 - 30'000;
  a.last_seen_ms = kT0 - 2'000;
  a.liveness_changed_ms = kT0 - 30'000;
  if (!health_state.empty()) {
    a.has_report = true;
    a.last_seq = 17;
    a.last_report_ts_ms = kT0 - 2'100;
    a.last_report.seq = 17;
    a.last_report.role = role;
    a.last_report.health.state = health_state;
    a.last_report.health.live = true;
    a.last_report.health.ready = health_state == "healthy";
    a.last_report.health.started = true;
    a.last_report.health.probes.push_back(
        {"liveness", "liveness", health_state == "healthy" ? "success" : "failure", 5, 0, 830,
         health_state == "healthy" ? "PONG" : "connection refused"});
    a.last_report.metrics = {{"cpu_usage", 0.25}, {"memory_bytes", 1048576}};
    a.last_report.attributes = {{"redis_role", "master"}};
  }
  return a;
}

class FakeStateView final : public controller::StateView {
 public:
  explicit FakeStateView(prometheus::Registry& registry) : registry_(registry) {
    info_.controller_id = "ctl-test";
    info_.version = "0.1.0";
    info_.started_at_ms = kT0 - 3'600'000;
    info_.zmq_endpoint = "tcp://127.0.0.1:7701";
    info_.data_dir = "/tmp/noa";
  }

  void setAgents(std::vector<AgentRecord> agents) {
    std::lock_guard<std::mutex> lock(mu_);
    agents_ = std::move(agents);
  }
  void setStoreHealth(Status health) {
    std::lock_guard<std::mutex> lock(mu_);
    info_.store_health = std::move(health);
  }
  void setHistory(const std::string& agent, std::vector<HistoryEntry> entries) {
    std::lock_guard<std::mutex> lock(mu_);
    history_[agent] = std::move(entries);
  }
  void setHistoryError(Status error) {
    std::lock_guard<std::mutex> lock(mu_);
    history_error_ = std::move(error);
  }
  // The arguments of the last history() call.
  std::pair<int64_t, size_t> lastHistoryQuery() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {last_since_, last_limit_};
  }

  // noa::controller::StateView
  ControllerInfo info() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return info_;
  }
  std::vector<AgentRecord> agents() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return agents_;
  }
  std::optional<AgentRecord> agent(const std::string& agent_id) const override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& a : agents_) {
      if (a.hello.agent_id == agent_id) return a;
    }
    return std::nullopt;
  }
  Result<std::vector<HistoryEntry>> history(const std::string& agent_id, int64_t since_ms,
                                            size_t limit) const override {
    std::lock_guard<std::mutex> lock(mu_);
    last_since_ = since_ms;
    last_limit_ = limit;
    if (!history_error_.ok()) return history_error_;
    std::vector<HistoryEntry> out;
    auto it = history_.find(agent_id);
    if (it == history_.end()) return out;
    for (const auto& e : it->second) {
      if (e.ts_ms >= since_ms && out.size() < limit) out.push_back(e);
    }
    return out;
  }
  std::string metricsText() const override {
    return prometheus::TextSerializer().Serialize(registry_.Collect());
  }
  controller::commands::CommandBook* commands() const override {
    std::lock_guard<std::mutex> lock(mu_);
    ++commands_calls_;
    commands_called_.notify_all();
    return book_.get();
  }
  // Blocks until commands() has been called `calls` times in all: every command route calls it
  // once per request, so a test can tell that a client has moved on to its next request.
  void waitForCommandsCalls(size_t calls) const {
    std::unique_lock<std::mutex> lock(mu_);
    commands_called_.wait(lock, [&] { return commands_calls_ >= calls; });
  }

  controller::backups::BackupCoordinator* backups() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return coordinator_.get();
  }

  // Backups over the command channel's store (enabled first when it is not yet): a catalog and
  // a coordinator with the policy file `policy_yaml`, whose agents are this view's. Call before
  // the server starts; tick() is the test's to call (there is no reconcile thread).
  controller::backups::BackupCoordinator& enableBackups(const Clock& clock,
                                                        const std::string& policy_yaml) {
    if (book_ == nullptr) enableCommands(clock);
    auto policy = controller::backups::parsePolicyYaml(policy_yaml);
    if (!policy.ok()) {
      ADD_FAILURE() << policy.status().toString();
      std::abort();
    }
    auto catalog = controller::backups::BackupCatalog::open(*store_, clock);
    if (!catalog.ok()) {
      ADD_FAILURE() << catalog.status().toString();
      std::abort();
    }
    auto coordinator = std::make_unique<controller::backups::BackupCoordinator>(
        **catalog, *book_, [this] { return agents(); }, std::move(policy).value(), clock);
    if (Status started = coordinator->start(); !started.ok()) {
      ADD_FAILURE() << started.toString();
      std::abort();
    }
    std::lock_guard<std::mutex> lock(mu_);
    catalog_ = std::move(catalog).value();
    coordinator_ = std::move(coordinator);
    return *coordinator_;
  }

  // Opens a store in a temporary directory and a CommandBook over it on `clock` (which must
  // outlive this). Call before the server starts; the book lives as long as this view.
  controller::commands::CommandBook& enableCommands(const Clock& clock) {
    commands_dir_ = std::make_unique<controller::testing::TempDir>();
    auto store = controller::Store::open({commands_dir_->path()});
    if (!store.ok()) {
      ADD_FAILURE() << store.status().toString();
      std::abort();
    }
    auto book = controller::commands::CommandBook::open(**store, clock);
    if (!book.ok()) {
      ADD_FAILURE() << book.status().toString();
      std::abort();
    }
    std::lock_guard<std::mutex> lock(mu_);
    store_ = std::move(store).value();
    book_ = std::move(book).value();
    return *book_;
  }

 private:
  prometheus::Registry& registry_;
  mutable std::mutex mu_;
  ControllerInfo info_;
  std::vector<AgentRecord> agents_;
  std::map<std::string, std::vector<HistoryEntry>> history_;
  Status history_error_;
  mutable int64_t last_since_ = -1;
  mutable size_t last_limit_ = 0;
  // Declared in this order so the book goes before its store, the store before its directory
  // (members are destroyed in reverse order).
  std::unique_ptr<controller::testing::TempDir> commands_dir_;
  std::unique_ptr<controller::Store> store_;
  std::unique_ptr<controller::commands::CommandBook> book_;
  // Likewise: the coordinator before its catalog, both before the book and the store.
  std::unique_ptr<controller::backups::BackupCatalog> catalog_;
  std::unique_ptr<controller::backups::BackupCoordinator> coordinator_;
  mutable size_t commands_calls_ = 0;
  mutable std::condition_variable commands_called_;
};

}  // namespace noa::testing
