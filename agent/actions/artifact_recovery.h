#pragma once

// What an agent restart does with the artifact of a command the restart interrupted.
//
// An artifact-writing action (snapshot.create, backup.pg_dump) claims its final path in the
// command journal (ActionContext::claim_artifact) right after ArtifactWriter::create reserved
// the name, and names the command in its manifest. A kill -9 can then land in three places:
//   - before the artifact's rename: only a `.partial` is left (removeStalePartials clears it);
//   - after the rename, before the manifest: the artifact is whole but uncatalogued, and the
//     action itself would have removed it had the manifest failed: removed here too;
//   - after the manifest, before the result was journaled: the work is done, so it is adopted
//     as the command's result, with the fields the action would have returned.
// Nothing that another command wrote is touched: a manifest naming another command, or none,
// leaves both files as they are.

#include <string>

#include "agent/actions/action.h"

namespace noa::agent::actions {

struct InterruptedArtifact {
  enum class Outcome {
    kNothing,   // neither file is there (or they are not this command's): nothing done
    kAdopted,   // artifact and manifest complete: `result` is the command's success
    kRemoved,   // an uncatalogued artifact (or an artifact-less manifest) of this command removed
    kLeft,      // this command's files, but they could not be removed (see `note`)
  };
  Outcome outcome = Outcome::kNothing;
  ActionResult result;  // kAdopted only
  std::string note;     // what was found and done, for the log and the failure text
};

// `path` is the claimed final artifact path, its manifest `<path>.json`. Adoption checks that
// the manifest parses, names `command_id` and records the artifact's size; the file is not
// hashed again (it was fsync'd and renamed before the manifest was written, and a re-hash of a
// large snapshot would hold up the agent's start).
InterruptedArtifact settleInterruptedArtifact(const std::string& path,
                                              const std::string& command_id);

}  // namespace noa::agent::actions
