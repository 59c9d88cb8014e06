#pragma once

// Plays an agent's side of the command channel against a CommandBook, as the ingest loop will
// once it is wired: take the deliveries, accept, report progress, send the result. For REST and
// noactl tests; failures are test failures.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/protocol/messages.h"
#include "controller/commands/command_book.h"

namespace noa::testing {

// Marks what is due for `agent` as sent; returns the ids sent.
inline std::vector<std::string> deliverTo(controller::commands::CommandBook& book,
                                          const std::string& agent) {
  std::vector<std::string> ids;
  auto sent = book.claimDeliveries(agent);
  EXPECT_TRUE(sent.ok()) << sent.status().toString();
  if (sent.ok()) {
    for (const auto& command : *sent) ids.push_back(command.command_id);
  }
  return ids;
}

inline void reportProgress(controller::commands::CommandBook& book, const std::string& agent,
                           const std::string& id, const std::string& phase, uint64_t done,
                           uint64_t total = 0) {
  protocol::Progress progress;
  progress.command_id = id;
  progress.state = protocol::kProgressRunning;
  progress.phase = phase;
  progress.bytes_done = done;
  progress.bytes_total_estimate = total;
  auto applied = book.applyProgress(agent, progress);
  EXPECT_TRUE(applied.ok()) << applied.status().toString();
}

inline void reportResult(controller::commands::CommandBook& book, const std::string& agent,
                         const std::string& id, const std::string& status,
                         const std::string& error_code = "", const std::string& error = "",
                         const std::string& output_json = "") {
  protocol::CommandResult result;
  result.command_id = id;
  result.status = status;
  result.code = status == "succeeded" ? 0 : 1;
  result.error_code = error_code;
  result.error = error;
  result.output_json = output_json;
  result.duration_ms = 12;
  auto applied = book.applyResult(agent, result);
  EXPECT_TRUE(applied.ok()) << applied.status().toString();
  if (applied.ok()) {
    EXPECT_EQ(applied->outcome, controller::commands::ApplyOutcome::kApplied) << applied->reason;
  }
}

}  // namespace noa::testing
