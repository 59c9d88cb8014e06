#pragma once

// The agent's on-disk memory of commands, under `<dir>` (the agent's state dir + "/commands"):
//   journal/<command_id>.json  every command accepted, then its result: dedupe by id across
//                              restarts (a repeated id is answered, never run twice);
//   spool/<command_id>.json    results the controller has not acknowledged yet.
// Every file is written atomically (temporary file, fsync, rename, fsync of the directory). A
// result goes to the spool before the journal, so a crash in between leaves a spooled result
// the journal is repaired from at open.
//
// Command ids become file names, so only [A-Za-z0-9._-]{1,128} (not "." or "..") is accepted.
// Not thread-safe: CommandExecutor serializes calls.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol/messages.h"
#include "common/status.h"

namespace noa::agent::commands {

struct JournalEntry {
  std::string command_id;
  std::string action;
  int64_t received_ms = 0;
  int64_t done_ms = 0;                            // 0 while unfinished
  std::optional<protocol::CommandResult> result;  // set when done
  bool spooled = false;                           // result not acknowledged yet
  // The final path the action claimed for its artifact while running (recordArtifact); what a
  // restart that finds the entry unfinished adopts or removes (actions/artifact_recovery.h).
  std::string artifact_path;
};

class CommandJournal {
 public:
  // Creates the directories when missing and loads both. A file that does not parse is moved
  // aside as `<name>.bad` and logged (it must not block the agent, and it is kept for a human).
  static Result<std::unique_ptr<CommandJournal>> open(const std::string& dir);

  static bool validCommandId(const std::string& id);

  const JournalEntry* find(const std::string& id) const;

  Status recordAccepted(const std::string& id, const std::string& action, int64_t now_ms);
  // The running command `id` is about to write `path`: durably, before the first byte.
  Status recordArtifact(const std::string& id, const std::string& path);
  // Spool first, then the journal.
  Status recordResult(const protocol::CommandResult& result, int64_t now_ms);
  // The controller acknowledged the result: delete it from the spool (the journal keeps it).
  // OK when it is not spooled.
  Status dropFromSpool(const std::string& id);

  // Spooled results, oldest first.
  std::vector<protocol::CommandResult> spooled() const;
  // Entries accepted but without a result (the agent stopped while they ran).
  std::vector<JournalEntry> unfinished() const;
  // Forgets finished, acknowledged entries whose result is older than cutoff_ms.
  size_t prune(int64_t cutoff_ms);

  size_t size() const { return entries_.size(); }

 private:
  explicit CommandJournal(std::string dir);
  Status writeEntry(const JournalEntry& entry);

  std::string dir_;
  std::string journal_dir_;
  std::string spool_dir_;
  std::map<std::string, JournalEntry> entries_;
};

// JSON form of a result (journal and spool files); exposed for tests.
std::string resultToJsonText(const protocol::CommandResult& result);
Result<protocol::CommandResult> resultFromJsonText(const std::string& text);

}  // namespace noa::agent::commands
