#include "agent/probes/probe_state.h"

#include <gtest/gtest.h>

#include "tests/testing/fake_clock.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;
using noa::testing::FakeClock;

ProbeSpec spec(std::string name, ProbeType type, uint32_t success_threshold = 1,
               uint32_t failure_threshold = 3) {
  ProbeSpec s;
  s.name = std::move(name);
  s.type = type;
  s.handler = TcpSocket{"127.0.0.1", 1};
  s.period = 1000ms;
  s.timeout = 500ms;
  s.success_threshold = success_threshold;
  s.failure_threshold = failure_threshold;
  return s;
}

Attempt ok(std::chrono::microseconds latency = 1000us) { return {true, latency, "ok"}; }
Attempt bad(std::chrono::microseconds latency = 1000us) { return {false, latency, "refused"}; }

TEST(ProbeState, StartsUnknownAndFailsOnlyAfterFailureThresholdConsecutiveFailures) {
  FakeClock clock;
  ProbeState p(spec("live", ProbeType::kLiveness), clock.now());
  EXPECT_EQ(p.status(), ProbeStatus::kUnknown);
  EXPECT_FALSE(p.record(bad(), clock.now()));
  EXPECT_FALSE(p.record(bad(), clock.now()));
  EXPECT_EQ(p.status(), ProbeStatus::kUnknown);
  EXPECT_EQ(p.consecutiveFailures(), 2u);
  EXPECT_TRUE(p.record(bad(), clock.now()));
  EXPECT_EQ(p.status(), ProbeStatus::kFailure);
  EXPECT_EQ(p.consecutiveFailures(), 3u);
  EXPECT_EQ(p.consecutiveSuccesses(), 0u);
  EXPECT_FALSE(p.record(bad(), clock.now()));  // stays failed, no new change
  EXPECT_TRUE(p.record(ok(), clock.now()));
  EXPECT_EQ(p.status(), ProbeStatus::kSuccess);
  EXPECT_EQ(p.consecutiveSuccesses(), 1u);
  EXPECT_EQ(p.attempts(), 5u);
  EXPECT_EQ(p.failedAttempts(), 4u);
}

TEST(ProbeState, SuccessThresholdNeedsThatManySuccessesInARow) {
  FakeClock clock;
  ProbeState p(spec("ready", ProbeType::kReadiness, 2, 1), clock.now());
  EXPECT_FALSE(p.record(ok(), clock.now()));
  EXPECT_EQ(p.status(), ProbeStatus::kUnknown);
  EXPECT_TRUE(p.record(ok(), clock.now()));
  EXPECT_EQ(p.status(), ProbeStatus::kSuccess);
  EXPECT_TRUE(p.record(bad(), clock.now()));  // failure threshold 1
  EXPECT_EQ(p.status(), ProbeStatus::kFailure);
  EXPECT_FALSE(p.record(ok(), clock.now()));
  EXPECT_FALSE(p.record(bad(), clock.now()));  // the run of successes restarts
  EXPECT_FALSE(p.record(ok(), clock.now()));
  EXPECT_TRUE(p.record(ok(), clock.now()));
  EXPECT_EQ(p.status(), ProbeStatus::kSuccess);
}

TEST(ProbeState, FlappingBelowTheThresholdNeverChangesTheStatus) {
  FakeClock clock;
  ProbeState p(spec("live", ProbeType::kLiveness), clock.now());
  ASSERT_TRUE(p.record(ok(), clock.now()));
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(p.record(bad(), clock.now()));
    EXPECT_FALSE(p.record(bad(), clock.now()));
    EXPECT_FALSE(p.record(ok(), clock.now()));
  }
  EXPECT_EQ(p.status(), ProbeStatus::kSuccess);
}

TEST(ProbeState, InitialDelayThenOnePeriodBetweenAttempts) {
  FakeClock clock;
  ProbeSpec s = spec("ready", ProbeType::kReadiness);
  s.initial_delay = 5s;
  ProbeSet set({s}, clock.now());
  EXPECT_FALSE(set.due(0, clock.now()));
  ASSERT_TRUE(set.wakeAt(0).has_value());
  EXPECT_EQ(*set.wakeAt(0), clock.now() + 5s);
  clock.advance(4999ms);
  EXPECT_FALSE(set.due(0, clock.now()));
  clock.advance(1ms);
  ASSERT_TRUE(set.due(0, clock.now()));
  const MonoTime began = clock.now();
  set.record(0, ok(20ms), began);
  clock.advance(20ms);
  EXPECT_FALSE(set.due(0, clock.now()));
  EXPECT_EQ(*set.wakeAt(0), began + 1s);
  clock.advance(980ms);
  EXPECT_TRUE(set.due(0, clock.now()));
}

TEST(ProbeState, AnAttemptLongerThanThePeriodSkipsTheTicksItOverran) {
  FakeClock clock;
  ProbeState p(spec("live", ProbeType::kLiveness), clock.now());
  const MonoTime began = clock.now();
  p.record(bad(2500ms), began);  // period 1 s: ticks at +1 s and +2 s were missed
  EXPECT_EQ(p.nextAttemptAt(), began + 3s);
  p.record(bad(1000ms), began + 3s);  // ends exactly on the next tick: that tick is missed too
  EXPECT_EQ(p.nextAttemptAt(), began + 5s);
}

TEST(ProbeState, StartupGatesLivenessAndReadinessAndStopsAfterItsFirstSuccess) {
  FakeClock clock;
  ProbeSet set({spec("startup", ProbeType::kStartup, 1, 30), spec("live", ProbeType::kLiveness),
                spec("ready", ProbeType::kReadiness)},
               clock.now());
  EXPECT_FALSE(set.started());
  EXPECT_TRUE(set.due(0, clock.now()));
  EXPECT_FALSE(set.due(1, clock.now()));
  EXPECT_FALSE(set.due(2, clock.now()));
  EXPECT_FALSE(set.wakeAt(1).has_value());  // waits for the startup probe, not for time
  EXPECT_EQ(set.health().state, "starting");
  EXPECT_FALSE(set.health().started);
  EXPECT_FALSE(set.health().ready);

  for (int i = 0; i < 5; ++i) {
    set.record(0, bad(), clock.now());
    clock.advance(1s);
    EXPECT_FALSE(set.due(1, clock.now()));
  }
  EXPECT_TRUE(set.record(0, ok(), clock.now()));
  EXPECT_TRUE(set.started());
  EXPECT_FALSE(set.wakeAt(0).has_value());  // finished
  clock.advance(10s);
  EXPECT_FALSE(set.due(0, clock.now()));
  // Their first ticks are long past: they run at once.
  EXPECT_TRUE(set.due(1, clock.now()));
  EXPECT_TRUE(set.due(2, clock.now()));
  EXPECT_EQ(set.health().state, "unhealthy");  // readiness not yet known: not ready
  EXPECT_TRUE(set.health().live);
  set.record(2, ok(), clock.now());
  EXPECT_EQ(set.health().state, "healthy");
}

TEST(ProbeState, StartupFailingPastItsThresholdStillCountsAsStarting) {
  FakeClock clock;
  ProbeSet set({spec("startup", ProbeType::kStartup, 1, 2), spec("ready", ProbeType::kReadiness)},
               clock.now());
  set.record(0, bad(), clock.now());
  EXPECT_TRUE(set.record(0, bad(), clock.now()));
  EXPECT_EQ(set.probe(0).status(), ProbeStatus::kFailure);
  EXPECT_EQ(set.health().state, "starting");
  EXPECT_TRUE(set.wakeAt(0).has_value());  // keeps trying
}

TEST(ProbeState, WithoutStartupProbeEverythingRunsAtOnce) {
  FakeClock clock;
  ProbeSet set({spec("live", ProbeType::kLiveness), spec("ready", ProbeType::kReadiness)},
               clock.now());
  EXPECT_TRUE(set.started());
  EXPECT_TRUE(set.due(0, clock.now()));
  EXPECT_TRUE(set.due(1, clock.now()));
}

TEST(ProbeState, ProtocolViewCarriesCountsLatencyAndACappedDetail) {
  FakeClock clock;
  ProbeState p(spec("live", ProbeType::kLiveness), clock.now());
  p.record(Attempt{false, 1234us, std::string(1000, 'x')}, clock.now());
  const protocol::ProbeState s = p.toProtocol();
  EXPECT_EQ(s.name, "live");
  EXPECT_EQ(s.kind, "liveness");
  EXPECT_EQ(s.state, "unknown");
  EXPECT_EQ(s.consecutive_failures, 1u);
  EXPECT_EQ(s.consecutive_successes, 0u);
  EXPECT_EQ(s.latency_us, 1234u);
  EXPECT_EQ(s.detail.size(), kMaxDetailBytes);
}

TEST(ProbeState, TruncateDetailKeepsUtf8Whole) {
  std::string text(kMaxDetailBytes - 1, 'a');
  text += "\xC3\xA9\xC3\xA9";  // "éé": the first one straddles the cap
  const std::string cut = truncateDetail(text);
  EXPECT_EQ(cut.size(), kMaxDetailBytes - 1);
  EXPECT_EQ(truncateDetail("short"), "short");
}

protocol::ProbeState state(std::string kind, std::string st) {
  protocol::ProbeState p;
  p.name = kind;
  p.kind = std::move(kind);
  p.state = std::move(st);
  return p;
}

TEST(HealthAggregation, FollowsTheRules) {
  struct Case {
    std::vector<protocol::ProbeState> probes;
    std::string state;
    bool started, live, ready;
  };
  const std::vector<Case> cases = {
      {{}, "unknown", true, true, true},
      {{state("startup", "unknown"), state("readiness", "unknown")},
       "starting",
       false,
       true,
       false},
      {{state("startup", "failure")}, "starting", false, true, true},
      {{state("startup", "success"), state("readiness", "success")}, "healthy", true, true, true},
      {{state("liveness", "unknown"), state("readiness", "success")}, "healthy", true, true, true},
      {{state("liveness", "failure"), state("readiness", "success")},
       "unhealthy",
       true,
       false,
       true},
      {{state("liveness", "success"), state("readiness", "failure")},
       "unhealthy",
       true,
       true,
       false},
      {{state("readiness", "success"), state("readiness", "unknown")},
       "unhealthy",
       true,
       true,
       false},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const protocol::Health h = aggregateHealth(cases[i].probes);
    EXPECT_EQ(h.state, cases[i].state) << "case " << i;
    EXPECT_EQ(h.started, cases[i].started) << "case " << i;
    EXPECT_EQ(h.live, cases[i].live) << "case " << i;
    EXPECT_EQ(h.ready, cases[i].ready) << "case " << i;
    EXPECT_EQ(h.probes.size(), cases[i].probes.size());
  }
}

}  // namespace
}  // namespace noa::agent
