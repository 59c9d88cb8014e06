#pragma once

// noa-controller's flags (each also settable as NOA_<FLAG>), parsed and validated in one place.

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "common/flags.h"
#include "common/status.h"
#include "controller/api/auth/api_security_config.h"
#include "controller/autoscale/autoscale_policy.h"
#include "controller/backups/backup_policy.h"
#include "controller/failover/failover_policy.h"
#include "controller/security/channel_security_config.h"

namespace noa::controller {

struct ControllerConfig {
  std::string controller_id;
  std::string data_dir = "/var/lib/noa-controller";
  std::string listen = "tcp://127.0.0.1:7701";  // agent channel (ZeroMQ ROUTER)
  std::string api_host = "127.0.0.1";
  int api_port = 7700;
  std::chrono::milliseconds report_interval{1000};
  uint32_t suspect_after_intervals = 3;
  uint32_t lost_after_intervals = 5;
  std::chrono::milliseconds history_retention{std::chrono::hours(24 * 7)};
  size_t max_message_bytes = 64 * 1024;
  // The policy file (backups, drills; schemas/policy.md), loaded and checked at start so a
  // mistake is a config error, not a silent missing backup. "" = no policies.
  std::string policy_file;
  backups::PolicyFile policy;
  failover::FailoverPolicies failover_policy;  // the same file's `failover:` sections
  autoscale::AutoscalePolicies autoscale_policy;  // the same file's `autoscale:` sections
  api::ApiSecurityConfig api_security;     // --api-auth, --api-tokens-file, --api-tls-*, ...
  ChannelSecurityConfig channel_security;  // --key-dir, --allowlist-file, --auto-accept, ...
  CommonFlags common;
};

po::options_description controllerFlags();

// Parses and validates; errors name the flag.
Status parseControllerConfig(int argc, const char* const* argv, ControllerConfig& config);

// The effective config for --check-config and /v1/health (no secrets in it).
nlohmann::json toJson(const ControllerConfig& config);

}  // namespace noa::controller
