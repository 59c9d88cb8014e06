#pragma once

// The libraries the agent opens on first use rather than at exec (see lazy_library.h). Call the
// load function before the first call into the library wherever a missing library must become a
// Status (an action's result, the agent's startup error) rather than an abort in the shim.

#include "common/status.h"

namespace noa::agent::lazy {

Status loadLibpq();        // libpq.so.5: postgres probes, pg_* actions, replication
Status loadLibarchive();   // libarchive.so.13: snapshot create/restore, verify
Status loadLibcrypto();    // libcrypto.so.3: SHA-256 of artifacts (backups, verify, models)

}  // namespace noa::agent::lazy
