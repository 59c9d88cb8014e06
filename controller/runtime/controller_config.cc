#include "controller/runtime/controller_config.h"

#include <unistd.h>

#include "common/duration.h"

namespace noa::controller {
namespace {

std::string defaultControllerId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "noa-controller";
  return host;
}

Status parseHostPort(const std::string& text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("--api-listen '" + text + "' must be HOST:PORT");
  }
  host = text.substr(0, colon);
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    return Status::InvalidArgument("--api-listen '" + text + "' has no valid port");
  }
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument("--api-listen port must be 0..65535");
  }
  return Status::Ok();
}

}  // namespace

po::options_description controllerFlags() {
  po::options_description desc("noa-controller flags");
  addCommonFlags(desc);
  desc.add_options()("controller-id", po::value<std::string>(),
                     "name of this controller in messages and logs (default: host name)")(
      "data-dir", po::value<std::string>()->default_value("/var/lib/noa-controller"),
      "RocksDB directory (created if missing; never wiped)")(
      "listen", po::value<std::string>()->default_value("tcp://127.0.0.1:7701"),
      "ZeroMQ endpoint agents connect to")(
      "api-listen", po::value<std::string>()->default_value("127.0.0.1:7700"),
      "HOST:PORT of the REST API")("report-interval", po::value<std::string>()->default_value("1s"),
                                   "report interval agents are asked to keep")(
      "suspect-after", po::value<uint32_t>()->default_value(3),
      "missed report intervals before an agent is 'suspect'")(
      "lost-after", po::value<uint32_t>()->default_value(5),
      "missed report intervals before an agent is 'lost'")(
      "history-retention", po::value<std::string>()->default_value("7d"),
      "how long reports are kept in history")("max-message-bytes",
                                              po::value<size_t>()->default_value(64 * 1024),
                                              "largest message accepted from an agent")(
      "policy-file", po::value<std::string>()->default_value(""),
      "YAML policy file: backup schedules, retention, restore drills, RPO/RTO targets "
      "(schemas/policy.md); read at start");
  api::addApiSecurityFlags(desc);
  addChannelSecurityFlags(desc);
  return desc;
}

Status parseControllerConfig(int argc, const char* const* argv, ControllerConfig& config) {
  po::variables_map vm;
  NOA_RETURN_IF_ERROR(parseFlags(argc, argv, controllerFlags(), vm, config.common));
  if (config.common.help) return Status::Ok();
  config.controller_id =
      vm.count("controller-id") ? vm["controller-id"].as<std::string>() : defaultControllerId();
  config.data_dir = vm["data-dir"].as<std::string>();
  config.listen = vm["listen"].as<std::string>();
  NOA_RETURN_IF_ERROR(
      parseHostPort(vm["api-listen"].as<std::string>(), config.api_host, config.api_port));
  auto interval = parseDuration(vm["report-interval"].as<std::string>());
  if (!interval.ok()) return interval.status().withContext("--report-interval");
  config.report_interval = *interval;
  auto retention = parseDuration(vm["history-retention"].as<std::string>());
  if (!retention.ok()) return retention.status().withContext("--history-retention");
  config.history_retention = *retention;
  config.policy_file = vm["policy-file"].as<std::string>();
  if (!config.policy_file.empty()) {
    auto policy = backups::loadPolicyFile(config.policy_file);
    if (!policy.ok()) return policy.status().withContext("--policy-file");
    config.policy = std::move(policy).value();
    auto failover_policy = failover::loadFailoverPolicies(config.policy_file);
    if (!failover_policy.ok()) return failover_policy.status().withContext("--policy-file");
    config.failover_policy = std::move(failover_policy).value();
    auto autoscale_policy = autoscale::loadAutoscalePolicies(config.policy_file);
    if (!autoscale_policy.ok()) return autoscale_policy.status().withContext("--policy-file");
    config.autoscale_policy = std::move(autoscale_policy).value();
  }
  config.suspect_after_intervals = vm["suspect-after"].as<uint32_t>();
  config.lost_after_intervals = vm["lost-after"].as<uint32_t>();
  config.max_message_bytes = vm["max-message-bytes"].as<size_t>();

  if (config.controller_id.empty() || config.controller_id.size() > 64) {
    return Status::InvalidArgument("--controller-id must be 1-64 characters");
  }
  if (config.data_dir.empty()) return Status::InvalidArgument("--data-dir must not be empty");
  if (config.listen.rfind("tcp://", 0) != 0 && config.listen.rfind("ipc://", 0) != 0) {
    return Status::InvalidArgument("--listen '" + config.listen +
                                   "' must be a tcp:// or ipc:// endpoint");
  }
  if (config.report_interval < std::chrono::milliseconds(100) ||
      config.report_interval > std::chrono::minutes(5)) {
    return Status::InvalidArgument("--report-interval must be between 100ms and 5m");
  }
  if (config.suspect_after_intervals < 1) {
    return Status::InvalidArgument("--suspect-after must be at least 1");
  }
  if (config.lost_after_intervals <= config.suspect_after_intervals) {
    return Status::InvalidArgument("--lost-after (" + std::to_string(config.lost_after_intervals) +
                                   ") must be greater than --suspect-after (" +
                                   std::to_string(config.suspect_after_intervals) + ")");
  }
  if (config.history_retention < std::chrono::minutes(1)) {
    return Status::InvalidArgument("--history-retention must be at least 1m");
  }
  if (config.max_message_bytes < 1024 || config.max_message_bytes > 1024 * 1024) {
    return Status::InvalidArgument("--max-message-bytes must be between 1024 and 1048576");
  }
  NOA_RETURN_IF_ERROR(api::parseApiSecurityFlags(vm, config.api_host, config.api_security));
  NOA_RETURN_IF_ERROR(parseChannelSecurityFlags(vm, config.data_dir, config.channel_security));
  return Status::Ok();
}

nlohmann::json toJson(const ControllerConfig& config) {
  nlohmann::json out = {{"controller_id", config.controller_id},
                        {"data_dir", config.data_dir},
                        {"listen", config.listen},
                        {"api_listen", config.api_host + ":" + std::to_string(config.api_port)},
                        {"report_interval", formatDuration(config.report_interval)},
                        {"suspect_after", config.suspect_after_intervals},
                        {"lost_after", config.lost_after_intervals},
                        {"history_retention", formatDuration(config.history_retention)},
                        {"policy_file", config.policy_file},
                        {"policy_services", config.policy.services.size()},
                        {"max_message_bytes", config.max_message_bytes}};
  out.update(api::toJson(config.api_security));
  out.update(toJson(config.channel_security));
  return out;
}

}  // namespace noa::controller
