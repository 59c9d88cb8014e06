#include "agent/runtime/agent_config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>

#include "agent/commands/action_defaults.h"
#include "common/duration.h"
#include "common/transport/curve_keys.h"

namespace noa::agent {
namespace {

using namespace std::string_literals;

const std::string kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

const std::vector<std::string> kKinds = {"generic", "tcp", "http", "postgres", "redis", "llama"};

Result<std::chrono::milliseconds> durationFlag(const po::variables_map& vm, const char* name) {
  auto d = parseDuration(vm[name].as<std::string>());
  if (!d.ok()) return d.status().withContext(std::string("--") + name);
  return *d;
}

// libpq conninfo "key=value ..." with password=... replaced.
std::string redactConnInfo(const std::string& conninfo) {
  static const std::regex kPassword(R"((password\s*=\s*)('[^']*'|\S+))", std::regex::icase);
  std::string out = std::regex_replace(conninfo, kPassword, "$1***");
  static const std::regex kUrlPassword(R"((://[^:/@]+:)[^@]+@)");
  return std::regex_replace(out, kUrlPassword, "$1***@");
}

std::string localHostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// "HOST:PORT" (the host may be a bracketed IPv6 address); port 0 picks a free one.
Status parseListen(const std::string& text, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return Status::InvalidArgument("--http-listen '" + text + "' must be HOST:PORT");
  }
  host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string digits = text.substr(colon + 1);
  int value = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 0 || value > 65535) {
    return Status::InvalidArgument("--http-listen '" + text + "': port must be 0..65535");
  }
  port = value;
  return Status::Ok();
}

// The agent must know the controller's public key unless it runs in plaintext; the key file
// is read here so a wrong path is a config error, not a silent failure to connect.
Status checkChannelSecurity(AgentConfig& config) {
  const bool has_key = !config.controller_public_key.empty();
  const bool has_file = !config.controller_public_key_file.empty();
  if (config.insecure_plaintext) {
    if (has_key || has_file) {
      return Status::InvalidArgument(
          "--insecure-plaintext uses no keys: drop --controller-public-key(-file)");
    }
    return Status::Ok();
  }
  if (has_key && has_file) {
    return Status::InvalidArgument(
        "--controller-public-key and --controller-public-key-file exclude each other");
  }
  if (!has_key && !has_file) {
    return Status::InvalidArgument(
        "the controller's public key is required: --controller-public-key Z85 or "
        "--controller-public-key-file FILE (noa-controller keygen prints it; "
        "--insecure-plaintext for local development only)");
  }
  if (has_file) {
    auto key = transport::readPublicKeyFile(config.controller_public_key_file);
    if (!key.ok()) return key.status().withContext("--controller-public-key-file");
    config.controller_public_key = *key;
  } else if (!transport::isValidKey(config.controller_public_key)) {
    return Status::InvalidArgument("--controller-public-key is not a 40-character Z85 key");
  }
  return Status::Ok();
}

std::string envOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

std::string trimmedFile(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  return text;
}

// A Kubernetes label key: an optional DNS-subdomain prefix and '/', then a name of at most 63.
bool isLabelKey(const std::string& key) {
  static const std::regex kName("[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?");
  static const std::regex kPrefix("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  const size_t slash = key.find('/');
  if (slash == std::string::npos) return std::regex_match(key, kName);
  return std::regex_match(key.substr(0, slash), kPrefix) &&
         std::regex_match(key.substr(slash + 1), kName);
}

// --k8s-pod-label and its companions: the in-cluster defaults, then everything the PATCH
// needs, so a pod that cannot label itself fails at start instead of warning forever.
Status checkPodLabel(const po::variables_map& vm, AgentConfig& config) {
  std::string label = vm["k8s-pod-label"].as<std::string>();
  if (label == "false" || label == "off" || label == "0") label.clear();
  if (label == "true" || label == "on" || label == "1") label = "role";
  config.k8s_pod_label = label;
  config.k8s_api_server = vm["k8s-api-server"].as<std::string>();
  config.k8s_token_file = vm["k8s-token-file"].as<std::string>();
  config.k8s_ca_file = vm["k8s-ca-file"].as<std::string>();
  config.k8s_namespace = vm["k8s-namespace"].as<std::string>();
  config.k8s_pod = vm["k8s-pod"].as<std::string>();
  if (label.empty()) return Status::Ok();
  if (!isLabelKey(label)) {
    return Status::InvalidArgument("--k8s-pod-label '" + label +
                                   "' is not a Kubernetes label key ([prefix/]name)");
  }
  if (config.kind != "postgres" && config.kind != "redis") {
    return Status::InvalidArgument("--k8s-pod-label needs --kind postgres or redis (a role)");
  }
  if (config.k8s_api_server.empty()) {
    const std::string host = envOr("KUBERNETES_SERVICE_HOST", "");
    if (host.empty()) {
      return Status::InvalidArgument(
          "--k8s-pod-label: --k8s-api-server is required outside a cluster "
          "(KUBERNETES_SERVICE_HOST is unset)");
    }
    config.k8s_api_server = "https://" +
                            (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                            ":" + envOr("KUBERNETES_SERVICE_PORT", "443");
  }
  if (config.k8s_api_server.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("--k8s-api-server '" + config.k8s_api_server +
                                   "' must be https:// (the token must not travel in clear)");
  }
  if (config.k8s_token_file.empty()) {
    return Status::InvalidArgument("--k8s-pod-label needs --k8s-token-file");
  }
  if (::access(config.k8s_token_file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("--k8s-token-file '" + config.k8s_token_file +
                                   "' cannot be read (is a service account token mounted?)");
  }
  if (!config.k8s_ca_file.empty() && ::access(config.k8s_ca_file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("--k8s-ca-file '" + config.k8s_ca_file + "' cannot be read");
  }
  if (config.k8s_namespace.empty()) {
    config.k8s_namespace = trimmedFile(kServiceAccountDir + "/namespace");
    if (config.k8s_namespace.empty()) config.k8s_namespace = envOr("POD_NAMESPACE", "");
  }
  if (config.k8s_namespace.empty()) {
    return Status::InvalidArgument(
        "--k8s-pod-label: --k8s-namespace is required (no service account namespace file, "
        "POD_NAMESPACE unset)");
  }
  if (config.k8s_pod.empty()) config.k8s_pod = envOr("POD_NAME", localHostName());
  static const std::regex kDnsName("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
  if (!std::regex_match(config.k8s_namespace, kDnsName)) {
    return Status::InvalidArgument("--k8s-namespace '" + config.k8s_namespace +
                                   "' is not a Kubernetes name");
  }
  if (!std::regex_match(config.k8s_pod, kDnsName)) {
    return Status::InvalidArgument("--k8s-pod '" + config.k8s_pod + "' is not a pod name");
  }
  return Status::Ok();
}

}  // namespace

po::options_description agentFlags() {
  po::options_description desc("noa-agent flags");
  addCommonFlags(desc);
  desc.add_options()("agent-id", po::value<std::string>(),
                     "unique id of this agent, [A-Za-z0-9._-]{1,64} (required)")(
      "service", po::value<std::string>(), "logical service this agent watches (required)")(
      "kind", po::value<std::string>()->default_value("generic"),
      "service kind: generic | tcp | http | postgres | redis | llama")(
      "service-host", po::value<std::string>()->default_value("127.0.0.1"),
      "host of the watched service")("service-port", po::value<int>()->default_value(0),
                                     "port of the watched service")(
      "controller", po::value<std::string>()->default_value("tcp://127.0.0.1:7701"),
      "controller's agent endpoint")("report-interval",
                                     po::value<std::string>()->default_value("1s"), "report every")(
      "controller-timeout", po::value<uint32_t>()->default_value(3),
      "report intervals without a word from the controller before reconnecting")(
      "probe-period", po::value<std::string>()->default_value("1s"), "probe every")(
      "probe-timeout", po::value<std::string>()->default_value("1s"), "probe attempt timeout")(
      "probe-failure-threshold", po::value<uint32_t>()->default_value(3),
      "consecutive failures before a probe counts as failed")(
      "pg-conninfo", po::value<std::string>()->default_value(""),
      "libpq connection string for kind=postgres (default: host/port above, user postgres)")(
      "redis-password-file", po::value<std::string>()->default_value(""),
      "file holding the Redis password for kind=redis")(
      "host", po::value<std::string>()->default_value(""),
      "this machine's name as the controller shows it (default: the hostname)")(
      "http-listen", po::value<std::string>()->default_value(""),
      "HOST:PORT for the agent's own /health, /health/ready, /health/startup and /metrics "
      "(default: off)")("cgroup-dir", po::value<std::string>()->default_value(""),
                        "cgroup v2 directory of the service, for CPU and memory metrics")(
      "service-pid", po::value<int64_t>()->default_value(0),
      "PID of the service: CPU and memory of its process tree (when there is no --cgroup-dir)")(
      "service-pidfile", po::value<std::string>()->default_value(""),
      "file holding the service's PID, re-read every interval (instead of --service-pid)")(
      "metrics-url", po::value<std::string>()->default_value(""),
      "the service's own Prometheus endpoint, e.g. http://127.0.0.1:9187/metrics")(
      "metrics-allow", po::value<std::string>()->default_value(""),
      "comma-separated metric names (or prefix*) to keep from --metrics-url; empty = all, capped")(
      "metrics-timeout", po::value<std::string>()->default_value("2s"),
      "timeout of one scrape of --metrics-url")(
      "state-dir", po::value<std::string>()->default_value(""),
      "directory of the agent's CURVE key pair (agent.key 0600, agent.pub), made on first start "
      "(default: /var/lib/noa-agent/<agent-id>)")(
      "controller-public-key", po::value<std::string>()->default_value(""),
      "the controller's CURVE public key (Z85, 40 characters; noa-controller keygen prints it)")(
      "controller-public-key-file", po::value<std::string>()->default_value(""),
      "file holding the controller's public key (its controller.pub), instead of the above")(
      "insecure-plaintext", po::bool_switch()->default_value(false),
      "DEVELOPMENT ONLY: no CURVE; the controller must run with --insecure-plaintext too")(
      "run-as", po::value<std::string>()->default_value(""),
      "drop root privileges to this user (and its groups) before anything else; its state "
      "dir, key and password files must be readable by that user")(
      "actions", po::value<std::string>()->default_value(""),
      "comma-separated actions the controller may run here (default by --kind: postgres adds "
      "backup.pg_dump and restore.pg_restore, llama model.load; every kind has ping, "
      "backup.verify, snapshot.create, snapshot.restore, retention.prune); 'none' = no "
      "commands")(
      "backup-dir", po::value<std::string>()->default_value(""),
      "where backup.pg_dump writes and retention.prune deletes, unless a command says otherwise")(
      "snapshot-dir", po::value<std::string>()->default_value(""),
      "where snapshot.create writes, unless a command says otherwise")(
      "models-dir", po::value<std::string>()->default_value(""),
      "where model.load installs models, unless a command says otherwise")(
      "lock-dir", po::value<std::string>()->default_value(""),
      "directory of the per-target action locks (default: <state-dir>/locks)")(
      "pg-data-dir", po::value<std::string>()->default_value(""),
      "postgres kind: the server's data directory (fencing, rejoin with pg_rewind, restart)")(
      "pg-bin-dir", po::value<std::string>()->default_value("/usr/lib/postgresql/15/bin"),
      "postgres kind: where pg_ctl and pg_rewind are")(
      "lease", po::value<std::string>()->default_value("2s"),
      "leader lease assumed until the controller grants one; a primary without a valid lease "
      "stops taking writes. 0 = no fencing (standalone service)")(
      "k8s-pod-label", po::value<std::string>()->default_value("")->implicit_value("role"),
      "Kubernetes: keep this pod's label LABEL=primary while its service is primary with a "
      "valid lease, =replica otherwise (alone: LABEL=role; true/false also work; default: off)")(
      "k8s-api-server", po::value<std::string>()->default_value(""),
      "Kubernetes API server, https://HOST:PORT (default: from KUBERNETES_SERVICE_HOST/_PORT)")(
      "k8s-token-file", po::value<std::string>()->default_value(kServiceAccountDir + "/token"s),
      "bearer token for the API server, re-read on every call")(
      "k8s-ca-file", po::value<std::string>()->default_value(kServiceAccountDir + "/ca.crt"s),
      "CA bundle that verifies the API server")(
      "k8s-namespace", po::value<std::string>()->default_value(""),
      "this pod's namespace (default: the service account's namespace file, else POD_NAMESPACE)")(
      "k8s-pod", po::value<std::string>()->default_value(""),
      "this pod's name (default: env POD_NAME, else the hostname)");
  return desc;
}

Status parseAgentConfig(int argc, const char* const* argv, AgentConfig& config) {
  po::variables_map vm;
  NOA_RETURN_IF_ERROR(parseFlags(argc, argv, agentFlags(), vm, config.common));
  if (config.common.help) return Status::Ok();
  if (!vm.count("agent-id")) return Status::InvalidArgument("--agent-id is required");
  if (!vm.count("service")) return Status::InvalidArgument("--service is required");
  config.agent_id = vm["agent-id"].as<std::string>();
  config.service = vm["service"].as<std::string>();
  config.kind = vm["kind"].as<std::string>();
  config.service_host = vm["service-host"].as<std::string>();
  config.service_port = vm["service-port"].as<int>();
  config.controller = vm["controller"].as<std::string>();
  NOA_ASSIGN_OR_RETURN(config.report_interval, durationFlag(vm, "report-interval"));
  NOA_ASSIGN_OR_RETURN(config.probe_period, durationFlag(vm, "probe-period"));
  NOA_ASSIGN_OR_RETURN(config.probe_timeout, durationFlag(vm, "probe-timeout"));
  config.controller_timeout_intervals = vm["controller-timeout"].as<uint32_t>();
  config.probe_failure_threshold = vm["probe-failure-threshold"].as<uint32_t>();
  config.pg_conninfo = vm["pg-conninfo"].as<std::string>();
  config.redis_password_file = vm["redis-password-file"].as<std::string>();
  config.host = vm["host"].as<std::string>();
  if (config.host.empty()) config.host = localHostName();
  config.http_listen = vm["http-listen"].as<std::string>();
  if (!config.http_listen.empty()) {
    NOA_RETURN_IF_ERROR(parseListen(config.http_listen, config.http_host, config.http_port));
  }

  config.cgroup_dir = vm["cgroup-dir"].as<std::string>();
  config.service_pid = vm["service-pid"].as<int64_t>();
  config.service_pidfile = vm["service-pidfile"].as<std::string>();
  config.metrics_url = vm["metrics-url"].as<std::string>();
  config.metrics_allow.clear();
  std::stringstream allow(vm["metrics-allow"].as<std::string>());
  for (std::string name; std::getline(allow, name, ',');) {
    if (!name.empty()) config.metrics_allow.push_back(name);
  }
  NOA_ASSIGN_OR_RETURN(config.metrics_timeout, durationFlag(vm, "metrics-timeout"));
  config.state_dir = vm["state-dir"].as<std::string>();
  config.controller_public_key = vm["controller-public-key"].as<std::string>();
  config.controller_public_key_file = vm["controller-public-key-file"].as<std::string>();
  config.insecure_plaintext = vm["insecure-plaintext"].as<bool>();
  config.run_as = vm["run-as"].as<std::string>();
  config.backup_dir = vm["backup-dir"].as<std::string>();
  config.snapshot_dir = vm["snapshot-dir"].as<std::string>();
  config.models_dir = vm["models-dir"].as<std::string>();
  config.lock_dir = vm["lock-dir"].as<std::string>();
  config.pg_data_dir = vm["pg-data-dir"].as<std::string>();
  config.pg_bin_dir = vm["pg-bin-dir"].as<std::string>();
  NOA_ASSIGN_OR_RETURN(config.lease, durationFlag(vm, "lease"));
  config.actions.clear();
  const std::string actions = vm["actions"].as<std::string>();
  if (actions.empty()) {
    config.actions = commands::defaultActionsFor(vm["kind"].as<std::string>());
  } else if (actions != "none") {
    std::stringstream list(actions);
    for (std::string name; std::getline(list, name, ',');) {
      if (!name.empty()) config.actions.push_back(name);
    }
    const auto known = commands::builtinActions().names();
    for (const auto& name : config.actions) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string all;
        for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
        return Status::InvalidArgument("--actions: unknown action '" + name + "' (known: " + all +
                                       ")");
      }
    }
  }
  if (config.service_pid < 0) return Status::InvalidArgument("--service-pid must be positive");
  if (config.service_pid > 0 && !config.service_pidfile.empty()) {
    return Status::InvalidArgument("--service-pid and --service-pidfile exclude each other");
  }

  static const std::regex kId("[A-Za-z0-9._-]{1,64}");
  if (!std::regex_match(config.agent_id, kId)) {
    return Status::InvalidArgument("--agent-id '" + config.agent_id +
                                   "' must match [A-Za-z0-9._-]{1,64}");
  }
  if (config.service.empty() || config.service.size() > 64) {
    return Status::InvalidArgument("--service must be 1-64 characters");
  }
  if (std::find(kKinds.begin(), kKinds.end(), config.kind) == kKinds.end()) {
    return Status::InvalidArgument("--kind '" + config.kind +
                                   "' is not one of generic, tcp, http, postgres, redis, llama");
  }
  if (config.service_port < 0 || config.service_port > 65535) {
    return Status::InvalidArgument("--service-port must be 0..65535");
  }
  const bool needs_port =
      config.kind != "generic" && !(config.kind == "postgres" && !config.pg_conninfo.empty());
  if (needs_port && config.service_port == 0) {
    return Status::InvalidArgument("--service-port is required for --kind " + config.kind);
  }
  if (config.controller.rfind("tcp://", 0) != 0 && config.controller.rfind("ipc://", 0) != 0) {
    return Status::InvalidArgument("--controller '" + config.controller +
                                   "' must be a tcp:// or ipc:// endpoint");
  }
  if (config.report_interval < std::chrono::milliseconds(100) ||
      config.report_interval > std::chrono::minutes(5)) {
    return Status::InvalidArgument("--report-interval must be between 100ms and 5m");
  }
  if (config.controller_timeout_intervals < 2) {
    return Status::InvalidArgument("--controller-timeout must be at least 2 intervals");
  }
  if (config.probe_period < std::chrono::milliseconds(100)) {
    return Status::InvalidArgument("--probe-period must be at least 100ms");
  }
  if (config.probe_timeout < std::chrono::milliseconds(50) ||
      config.probe_timeout > config.probe_period * 10) {
    return Status::InvalidArgument("--probe-timeout must be between 50ms and 10 x --probe-period");
  }
  if (config.probe_failure_threshold < 1) {
    return Status::InvalidArgument("--probe-failure-threshold must be at least 1");
  }
  NOA_RETURN_IF_ERROR(checkPodLabel(vm, config));
  if (config.state_dir.empty()) config.state_dir = "/var/lib/noa-agent/" + config.agent_id;
  if (config.lock_dir.empty()) config.lock_dir = config.state_dir + "/locks";
  return checkChannelSecurity(config);
}

nlohmann::json toJson(const AgentConfig& config) {
  return {{"agent_id", config.agent_id},
          {"service", config.service},
          {"kind", config.kind},
          {"service_host", config.service_host},
          {"service_port", config.service_port},
          {"controller", config.controller},
          {"report_interval", formatDuration(config.report_interval)},
          {"controller_timeout", config.controller_timeout_intervals},
          {"probe_period", formatDuration(config.probe_period)},
          {"probe_timeout", formatDuration(config.probe_timeout)},
          {"probe_failure_threshold", config.probe_failure_threshold},
          {"pg_conninfo", redactConnInfo(config.pg_conninfo)},
          {"redis_password_file", config.redis_password_file},
          {"host", config.host},
          {"http_listen", config.http_listen},
          {"cgroup_dir", config.cgroup_dir},
          {"service_pid", config.service_pid},
          {"service_pidfile", config.service_pidfile},
          {"metrics_url", config.metrics_url},
          {"metrics_allow", config.metrics_allow},
          {"metrics_timeout", formatDuration(config.metrics_timeout)},
          {"state_dir", config.state_dir},
          {"controller_public_key", config.controller_public_key},
          {"controller_public_key_file", config.controller_public_key_file},
          {"insecure_plaintext", config.insecure_plaintext},
          {"run_as", config.run_as},
          {"actions", config.actions},
          {"backup_dir", config.backup_dir},
          {"snapshot_dir", config.snapshot_dir},
          {"models_dir", config.models_dir},
          {"lock_dir", config.lock_dir},
          {"k8s_pod_label", config.k8s_pod_label},
          {"k8s_api_server", config.k8s_api_server},
          {"k8s_token_file", config.k8s_token_file},
          {"k8s_ca_file", config.k8s_ca_file},
          {"k8s_namespace", config.k8s_namespace},
          {"k8s_pod", config.k8s_pod}};
}

}  // namespace noa::agent
