#pragma once

// What the controller stores per replicated service (the `desired` family, key
// "leader/<service>", written with sync before anything acts on it): who leads, in which epoch,
// whether automatic failover is paused, the transition in progress (so a controller restarted
// in the middle of a failover finishes or rolls it back from stored state), and the timeline of
// leaders. The lease itself is not stored: it lives in memory (lease_table.h), and a restarted
// controller waits a full lease before it believes any lease has run out.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "controller/store/store.h"

namespace noa::controller::failover {

// Why a leadership changed or was taken: "bootstrap", "failover", "switchover", "forced".
struct LeaderHistoryEntry {
  uint64_t epoch = 0;
  std::string leader;
  int64_t since_ms = 0;
  std::string reason;     // one line
  std::string kind;       // bootstrap | automatic | switchover | forced
  std::string previous;   // the leader before
  std::string position;   // the new leader's WAL position / replication offset when promoted
  bool operator==(const LeaderHistoryEntry&) const = default;
};

enum class TransitionKind { kAutomatic, kSwitchover, kForced };
std::string_view transitionKindName(TransitionKind kind);  // automatic | switchover | forced
std::optional<TransitionKind> parseTransitionKind(std::string_view name);

// fence: the old leader (or a candidate whose promotion failed) must be fenced or its lease
//        surely over; catchup: a switchover waits for the candidate to reach the fenced
//        leader's position; promote: the candidate's promote command runs.
enum class Phase { kFence, kCatchup, kPromote };
std::string_view phaseName(Phase phase);  // fence | catchup | promote
std::optional<Phase> parsePhase(std::string_view name);

struct Transition {
  TransitionKind kind = TransitionKind::kAutomatic;
  Phase phase = Phase::kFence;
  std::string from;         // the leader being replaced
  std::string fence_target; // whom the fence phase waits for (from, or a failed candidate)
  std::string candidate;    // chosen at the promote phase ("" before); fixed for switchover --to / forced
  bool candidate_fixed = false;
  bool candidate_armed = false;  // named lease holder (and pinged); promoted once it holds a lease
  std::string reason;       // why it started
  int64_t started_ms = 0;
  int64_t phase_started_ms = 0;
  std::string fence_command;    // command ids in the CommandBook ("" = none sent)
  std::string promote_command;
  std::string fenced_position;  // switchover: the old leader's final position, from its fence
  std::vector<std::string> tried;  // candidates whose promotion failed
  bool operator==(const Transition&) const = default;
};

struct LeaderRecord {
  std::string service;
  std::string leader;  // "" = none known yet
  uint64_t epoch = 0;
  int64_t since_ms = 0;
  bool paused = false;
  std::string paused_reason;
  std::optional<Transition> transition;
  std::vector<LeaderHistoryEntry> history;  // oldest first, at most kMaxHistory
  bool operator==(const LeaderRecord&) const = default;
};

inline constexpr size_t kMaxHistory = 100;

nlohmann::json leaderToJson(const LeaderRecord& record);
Result<LeaderRecord> leaderFromJson(const nlohmann::json& j);

// The store's leader records, by service. Corruption naming the key when one does not decode
// (a failover decided on a half-read record could promote a second primary).
Result<std::vector<LeaderRecord>> loadLeaderRecords(const Store& store);
// Writes one record with sync.
Status saveLeaderRecord(Store& store, const LeaderRecord& record);

}  // namespace noa::controller::failover
