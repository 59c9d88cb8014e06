#include "controller/security/channel_security_config.h"

#include <filesystem>

namespace noa::controller {

void addChannelSecurityFlags(po::options_description& desc) {
  desc.add_options()("key-dir", po::value<std::string>()->default_value(""),
                     "directory of the controller's CURVE key pair (controller.key, 0600, and "
                     "controller.pub), made on first start (default: <data-dir>/keys)")(
      "allowlist-file", po::value<std::string>()->default_value(""),
      "file of 'AGENT_ID Z85_PUBLIC_KEY' lines whose agent keys are accepted; re-read when "
      "it changes")("auto-accept", po::bool_switch()->default_value(false),
                    "DEVELOPMENT ONLY: accept every unknown agent key for the agent id it claims")(
      "max-pending-keys", po::value<size_t>()->default_value(1000),
      "most unknown agent keys kept pending enrollment; more are refused")(
      "insecure-plaintext", po::bool_switch()->default_value(false),
      "DEVELOPMENT ONLY: agent channel without CURVE encryption and key enrollment");
}

Status parseChannelSecurityFlags(const po::variables_map& vm, const std::string& data_dir,
                                 ChannelSecurityConfig& config) {
  config.key_dir = vm["key-dir"].as<std::string>();
  if (config.key_dir.empty()) config.key_dir = (std::filesystem::path(data_dir) / "keys").string();
  config.allowlist_file = vm["allowlist-file"].as<std::string>();
  config.auto_accept = vm["auto-accept"].as<bool>();
  config.insecure_plaintext = vm["insecure-plaintext"].as<bool>();
  config.max_pending_keys = vm["max-pending-keys"].as<size_t>();
  if (config.max_pending_keys < 1 || config.max_pending_keys > 100000) {
    return Status::InvalidArgument("--max-pending-keys must be between 1 and 100000");
  }
  if (config.insecure_plaintext && (config.auto_accept || !config.allowlist_file.empty())) {
    return Status::InvalidArgument(
        "--insecure-plaintext has no keys: drop --auto-accept and --allowlist-file");
  }
  return Status::Ok();
}

nlohmann::json toJson(const ChannelSecurityConfig& config) {
  return {{"key_dir", config.key_dir},
          {"allowlist_file", config.allowlist_file},
          {"auto_accept", config.auto_accept},
          {"max_pending_keys", config.max_pending_keys},
          {"insecure_plaintext", config.insecure_plaintext}};
}

}  // namespace noa::controller
