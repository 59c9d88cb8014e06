#pragma once

// model.load: installs a GGUF model for a llama.cpp server and switches the server to it, with a
// way back. Steps:
//   1. fetch `source` (a local path, or an http(s) URL: resumed with a Range request when a
//      `<name>.partial` from an interrupted download is there) into `<models_dir>/<name>.partial`,
//      hashing on the fly;
//   2. refuse unless the SHA-256 equals `expected_sha256` and the GGUF pre-flight passes
//      (gguf.h); only then fsync + rename to `<models_dir>/<name>`;
//   3. switch `active_link` (a symlink) atomically: new link beside it, rename() over it;
//   4. reload: run `restart_command` (single-model llama-server restarted with `-m <link>`), or
//      `POST <router_url>/models/load {"model": name}` (router mode);
//   5. poll `<health_url>/health` (refused / 503 = loading, 200 = ready) up to `load_timeout_ms`;
//   6. on failure switch the link back to the previous model, reload again, wait again, and
//      report what happened (kErrHealthTimeout for a model that never became healthy).
// The previous model file is never deleted (retention decides that later).
//
// A download interrupted by the network keeps its `.partial` so the next attempt resumes it
// (multi-gigabyte files); every other failure removes it, as action.h requires.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/actions/action.h"
#include "common/status.h"

namespace noa::agent::actions {

struct ModelLoadParams {
  std::string source;           // local path or http(s):// URL
  std::string expected_sha256;  // required, 64 hex digits
  std::string models_dir;       // required; must exist
  std::string name;             // file name in models_dir; default: the source's file name
  std::string active_link;      // default "<models_dir>/active.gguf"
  // Reload: exactly one of these two ("reload": {"restart_command": [...]} or
  // "reload": {"router_url": "http://127.0.0.1:8080"}).
  std::vector<std::string> restart_command;
  std::string router_url;
  std::string health_url;  // base URL polled at /health; default router_url
  int64_t load_timeout_ms = 300'000;
  int64_t poll_interval_ms = 250;
  int64_t restart_timeout_ms = 60'000;  // for restart_command itself
  std::string lock_dir;                 // default kDefaultLockDir (pg_common.h)
  std::string target;                   // lock target; default "model.<basename of models_dir>"

  static Result<ModelLoadParams> fromJson(const nlohmann::json& params);
};

ActionResult runModelLoad(const ModelLoadParams& params, const ActionContext& ctx);

}  // namespace noa::agent::actions
