// Autoscaler figures (prints, asserts nothing):
//  1. controller CPU per evaluated service per tick: AutoscaleCoordinator::tick() over N
//     services (default 1000) of R replicas (default 3), each reporting CPU and memory, with an
//     actuator that answers at once (so only the autoscaler's own work is measured);
//  2. reaction time: a service's reported CPU crosses the target, and the time until the
//     actuator is called, with the coordinator ticking every report interval as the controller
//     does (default 1000 ms). Reports arrive at a random phase of the tick.
//
//   noa_autoscale_bench [--services N] [--replicas R] [--ticks T] [--interval-ms I] [--runs K]

#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "controller/autoscale/autoscale_coordinator.h"
#include "tests/unit/controller/store/store_test_util.h"

namespace noa::controller::autoscale {
namespace {

struct Target {
  std::atomic<int32_t> replicas{3};
  std::atomic<int64_t> set_at_ns{0};
};

class InstantActuator final : public Actuator {
 public:
  explicit InstantActuator(Target& t) : t_(t) {}
  ActuatorType type() const override { return ActuatorType::kExec; }
  Result<int32_t> currentReplicas(const std::string&) override { return t_.replicas.load(); }
  Status setReplicas(const std::string&, int32_t n) override {
    t_.replicas = n;
    t_.set_at_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    return Status::Ok();
  }

 private:
  Target& t_;
};

double cpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<AgentRecord> fleet(int services, int replicas, double cpu, int64_t now_ms) {
  std::vector<AgentRecord> out;
  for (int s = 0; s < services; ++s) {
    for (int r = 0; r < replicas; ++r) {
      AgentRecord a;
      a.hello.service = "svc-" + std::to_string(s);
      a.hello.agent_id = a.hello.service + "-" + std::to_string(r);
      a.session_started_ms = now_ms - 3'600'000;
      a.last_seen_ms = now_ms;
      a.has_report = true;
      a.last_report.health.state = "healthy";
      a.last_report.health.ready = true;
      a.last_report.metrics = {{"cpu_usage_cores", cpu},
                               {"cpu_limit_cores", 1.0},
                               {"memory_bytes", 300e6},
                               {"memory_limit_bytes", 1e9}};
      out.push_back(std::move(a));
    }
  }
  return out;
}

AutoscalePolicies policies(int services) {
  AutoscalePolicies p;
  for (int s = 0; s < services; ++s) {
    AutoscalePolicy policy;
    policy.service = "svc-" + std::to_string(s);
    policy.min_replicas = 1;
    policy.max_replicas = 20;
    policy.metrics = {
        {MetricSourceType::kResource, "cpu", MetricTargetType::kUtilization, 70, ""},
        {MetricSourceType::kResource, "memory", MetricTargetType::kUtilization, 80, ""}};
    p.services.push_back(std::move(policy));
  }
  return p;
}

int flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace
}  // namespace noa::controller::autoscale

int main(int argc, char** argv) {
  using namespace noa::controller::autoscale;
  using namespace noa::controller;
  const int services = flag(argc, argv, "--services", 1000);
  const int replicas = flag(argc, argv, "--replicas", 3);
  const int ticks = flag(argc, argv, "--ticks", 50);
  const int interval_ms = flag(argc, argv, "--interval-ms", 1000);
  const int runs = flag(argc, argv, "--runs", 5);
  noa::log::init("bench", noa::log::Level::kWarn);

  // 1. CPU per service per tick (steady state: every service holds).
  {
    noa::controller::testing::TempDir dir;
    auto store = Store::open({dir.path()});
    if (!store.ok()) return 1;
    std::vector<std::unique_ptr<Target>> targets;
    std::map<std::string, Target*> by_service;
    std::mutex mu;
    const int64_t now_ms = noa::toUnixMillis(noa::systemClock().wallNow());
    const std::vector<AgentRecord> agents = fleet(services, replicas, 0.6, now_ms);
    size_t records = 0;
    AutoscaleCoordinator coordinator(
        policies(services), [&](const std::set<std::string>&) { return agents; }, **store,
        [&](decisions::DecisionRecord) {
          ++records;
          return noa::Status::Ok();
        },
        noa::systemClock(), nullptr,
        [&](const ActuatorConfig&) -> noa::Result<ActuatorPtr> {
          std::lock_guard<std::mutex> lock(mu);
          targets.push_back(std::make_unique<Target>());
          targets.back()->replicas = replicas;
          return ActuatorPtr(std::make_unique<InstantActuator>(*targets.back()));
        });
    if (!coordinator.start().ok()) return 1;
    coordinator.tick();  // first evaluation stores the first decision of each service
    const double cpu0 = cpuSeconds();
    const auto wall0 = std::chrono::steady_clock::now();
    for (int t = 0; t < ticks; ++t) coordinator.tick();
    const double cpu = cpuSeconds() - cpu0;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    std::printf(
        "tick over %d services x %d replicas: %.2f ms CPU per tick (%.2f ms wall), "
        "%.2f us CPU per service per tick, %.1f %% of one core at one tick per %d ms; "
        "%zu decision records\n",
        services, replicas, 1e3 * cpu / ticks, 1e3 * wall / ticks, 1e6 * cpu / ticks / services,
        100.0 * (cpu / ticks) / (interval_ms / 1000.0), interval_ms, records);
  }

  // 2. Reaction time: one service, ticking every interval; the crossing lands at a random
  // moment between two ticks.
  {
    std::mt19937 rng(42);
    std::vector<double> reactions;
    for (int run = 0; run < runs; ++run) {
      noa::controller::testing::TempDir dir;
      auto store = Store::open({dir.path()});
      if (!store.ok()) return 1;
      Target target;
      std::mutex mu;
      double cpu_now = 0.6;
      AutoscaleCoordinator coordinator(
          policies(1),
          [&](const std::set<std::string>&) {
            std::lock_guard<std::mutex> lock(mu);
            return fleet(1, replicas, cpu_now, noa::toUnixMillis(noa::systemClock().wallNow()));
          },
          **store, [](decisions::DecisionRecord) { return noa::Status::Ok(); }, noa::systemClock(),
          nullptr,
          [&](const ActuatorConfig&) -> noa::Result<ActuatorPtr> {
            return ActuatorPtr(std::make_unique<InstantActuator>(target));
          });
      if (!coordinator.start().ok()) return 1;
      std::atomic<bool> stop{false};
      std::thread ticker([&] {
        while (!stop) {
          coordinator.tick();
          std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
        }
      });
      std::uniform_int_distribution<int> phase(interval_ms, 2 * interval_ms);
      std::this_thread::sleep_for(std::chrono::milliseconds(phase(rng)));
      const int64_t crossed = std::chrono::steady_clock::now().time_since_epoch().count();
      {
        std::lock_guard<std::mutex> lock(mu);
        cpu_now = 0.95;  // 95 % of the limit against a 70 % target
      }
      while (target.set_at_ns == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      reactions.push_back((target.set_at_ns - crossed) / 1e6);
      stop = true;
      ticker.join();
    }
    double worst = 0, sum = 0;
    for (double r : reactions) {
      worst = std::max(worst, r);
      sum += r;
    }
    std::printf(
        "reaction (report crossing the target -> actuator call), tick every %d ms, %d "
        "runs: mean %.0f ms, worst %.0f ms = %.2f report intervals (target <= 2)\n",
        interval_ms, runs, sum / reactions.size(), worst, worst / interval_ms);
  }
  return 0;
}
