#pragma once

// noa-controller's agent-channel security flags (each also NOA_<FLAG>), kept beside the module
// they configure; controller_config.cc adds and parses them.
//   --key-dir DIR             controller.key (0600) + controller.pub; default <data-dir>/keys
//   --allowlist-file FILE     `AGENT_ID Z85_PUBLIC_KEY` lines, re-read when it changes
//   --auto-accept             accept unknown keys for the agent id they claim (development)
//   --max-pending-keys N      bound of the pending list (default 1000)
//   --insecure-plaintext      no CURVE, no ZAP: the routing id is the identity (development)

#include <nlohmann/json.hpp>
#include <string>

#include "common/flags.h"
#include "common/status.h"

namespace noa::controller {

inline constexpr char kControllerKeyName[] = "controller";

struct ChannelSecurityConfig {
  std::string key_dir;  // resolved: never empty after parsing
  std::string allowlist_file;
  bool auto_accept = false;
  bool insecure_plaintext = false;
  size_t max_pending_keys = 1000;
};

void addChannelSecurityFlags(po::options_description& desc);
// `data_dir` gives the default key directory.
Status parseChannelSecurityFlags(const po::variables_map& vm, const std::string& data_dir,
                                 ChannelSecurityConfig& config);
nlohmann::json toJson(const ChannelSecurityConfig& config);

}  // namespace noa::controller
