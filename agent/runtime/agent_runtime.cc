#include "agent/runtime/agent_runtime.h"

#include <prometheus/registry.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <memory>
#include <thread>
#include <zmq.hpp>

#include "agent/lazy/lazy_libs.h"
#include "agent/probes/prober.h"
#include "agent/replication/service_fences.h"
#include "agent/runtime/agent_commands.h"
#include "agent/runtime/agent_fencing.h"
#include "agent/runtime/agent_http.h"
#include "agent/runtime/agent_metrics.h"
#include "agent/runtime/agent_probes.h"
#include "agent/runtime/metrics_worker.h"
#include "agent/runtime/pod_labeler.h"
#include "agent/runtime/probe_report_source.h"
#include "agent/runtime/service_watch.h"
#include "agent/session/session.h"
#include "common/log.h"
#include "common/signal_watcher.h"
#include "common/stop_token.h"
#include "common/transport/curve_keys.h"

namespace noa::agent {
namespace {

// libpq is opened on first use (agent/lazy), not at exec. An agent that will call it (a postgres
// probe, a pg action) opens it at startup instead, so a missing libpq5 is a clear exit there
// and not an abort in the shim at the first probe.
bool needsLibpq(const AgentConfig& config, const std::vector<ProbeSpec>& specs) {
  if (config.kind == "postgres") return true;
  const bool pg_probe = std::any_of(specs.begin(), specs.end(), [](const ProbeSpec& spec) {
    return std::holds_alternative<PostgresCheck>(spec.handler);
  });
  const bool pg_action =
      std::any_of(config.actions.begin(), config.actions.end(), [](const std::string& action) {
        return action.rfind("pg.", 0) == 0 || action == "backup.pg_dump" ||
               action == "restore.pg_restore";
      });
  return pg_probe || pg_action;
}

MetricsConfig metricsConfig(const AgentConfig& config) {
  MetricsConfig m;
  m.cgroup_dir = config.cgroup_dir;
  m.pid = config.service_pid;
  m.pidfile = config.service_pidfile;
  m.prometheus.url = config.metrics_url;
  m.prometheus.timeout = config.metrics_timeout;
  m.prometheus.selection.allowlist = config.metrics_allow;
  return m;
}

SessionOptions sessionOptions(const AgentConfig& config) {
  SessionOptions o;
  o.dealer.endpoint = config.controller;
  o.hello.agent_id = config.agent_id;
  o.hello.service = config.service;
  o.hello.kind = config.kind;
  o.hello.host = config.host;
  o.hello.agent_version = NOA_VERSION;
  o.hello.pid = static_cast<int64_t>(::getpid());
  o.report_interval = config.report_interval;
  o.controller_timeout_intervals = config.controller_timeout_intervals;
  return o;
}

// The lease guard and its fence, for postgres and redis agents with a lease (null otherwise).
std::unique_ptr<AgentFencing> makeFencing(const AgentConfig& config, Clock& clock,
                                          AgentFencingHooks hooks) {
  if (config.lease.count() <= 0) return nullptr;
  replication::FenceOptions options;
  options.pg_data_dir = config.pg_data_dir;
  options.pg_bin_dir = config.pg_bin_dir;
  options.pg_conninfo = config.pg_conninfo;
  options.service_host = config.service_host;
  options.service_port = config.service_port;
  options.redis_password_file = config.redis_password_file;
  auto fence = replication::makeServiceFence(config.kind, options);
  if (!fence) return nullptr;  // not a replicated kind
  if (config.kind == "postgres" && config.pg_data_dir.empty()) {
    log::error("fencing cannot stop PostgreSQL without --pg-data-dir; a primary that loses its "
               "lease keeps taking writes until this is fixed");
  }
  AgentFencingOptions fencing_options;
  fencing_options.guard.lease = config.lease;
  fencing_options.guard.startup_grace = config.lease + 3 * config.report_interval;
  fencing_options.state_dir = config.state_dir;
  log::info("leader lease guard on", {{"lease_ms", config.lease.count()},
                                      {"method", std::string(fence->method())}});
  return AgentFencing::create(std::move(fencing_options), clock, std::move(fence),
                              std::move(hooks));
}

// --k8s-pod-label: the labeler reads the probes' role and the lease guard (null when off).
std::unique_ptr<PodLabeler> makePodLabeler(const AgentConfig& config, Clock& clock,
                                           Prober& probes, const AgentFencing* fencing,
                                           AgentMetrics& metrics) {
  if (config.k8s_pod_label.empty()) return nullptr;
  if (fencing == nullptr) {
    // --lease 0: a standalone primary without failover (nothing to fail over to, so no second
    // primary can appear); the label follows the role alone so the primary Service still works.
    log::warn("pod label follows the role alone: no lease guard (--lease 0)");
  }
  PodLabelerOptions options;
  options.label = config.k8s_pod_label;
  options.target.api_server = config.k8s_api_server;
  options.target.token_file = config.k8s_token_file;
  options.target.ca_file = config.k8s_ca_file;
  options.target.k8s_namespace = config.k8s_namespace;
  options.target.pod = config.k8s_pod;
  PodLabelerHooks hooks;
  hooks.inputs = [&probes, fencing] {
    const AgentFencing::LeaseView lease =
        fencing ? fencing->leaseView() : AgentFencing::LeaseView{true, false};
    return PodLabelInputs{parseServiceRole(probes.snapshot().facts.role), lease.lease_valid,
                          lease.fenced};
  };
  hooks.on_patch = [&metrics](bool ok) { metrics.observePodLabelPatch(ok); };
  log::info("pod labeling on", {{"label", config.k8s_pod_label},
                                {"pod", config.k8s_namespace + "/" + config.k8s_pod},
                                {"api_server", config.k8s_api_server}});
  return std::make_unique<PodLabeler>(std::move(options), clock, std::move(hooks));
}

}  // namespace

int runAgent(const AgentConfig& config) {
  StopToken stop;
  std::thread signal_watcher = startSignalWatcher(stop);
  auto finish = [&](int code) {
    stop.requestStop();
    signal_watcher.join();
    return code;
  };

  Clock& clock = systemClock();
  log::info("starting", {{"version", NOA_VERSION}, {"config", toJson(config)}});

  auto specs = probesForAgent(config);
  if (!specs.ok()) {
    log::error("bad probe configuration", {{"error", specs.status().toString()}});
    std::cerr << "noa-agent: " << specs.status().message() << "\n";
    return finish(kExitBadConfig);
  }
  if (needsLibpq(config, *specs)) {
    if (Status loaded = lazy::loadLibpq(); !loaded.ok()) {
      log::error("cannot start", {{"error", loaded.toString()}});
      std::cerr << "noa-agent: " << loaded.message() << "\n";
      return finish(kExitBadConfig);
    }
  }

  prometheus::Registry prom;
  AgentMetrics metrics(prom, *specs);
  // The session is made after the prober (it reads the prober's snapshots) but the prober's
  // callbacks need the session; they only run after start(), by which time it exists.
  std::atomic<Session*> session_ptr{nullptr};
  ProberCallbacks callbacks;
  callbacks.on_attempt = [&metrics](const ProbeSpec& spec, const CheckOutcome& outcome,
                                    ProbeStatus status) {
    metrics.observeAttempt(spec, outcome, status);
  };
  callbacks.on_change = [&session_ptr] {
    if (Session* s = session_ptr.load()) s->reportNow();
  };
  auto prober = Prober::create(*specs, clock, std::move(callbacks));
  if (!prober.ok()) {
    log::error("bad probe configuration", {{"error", prober.status().toString()}});
    std::cerr << "noa-agent: " << prober.status().message() << "\n";
    return finish(kExitBadConfig);
  }
  Prober& probes = **prober;
  auto collector = MetricsCollector::create(metricsConfig(config), clock);
  if (!collector.ok()) {
    log::error("bad metrics configuration", {{"error", collector.status().toString()}});
    std::cerr << "noa-agent: " << collector.status().message() << "\n";
    return finish(kExitBadConfig);
  }
  MetricsWorker metrics_worker(std::move(collector).value(), config.report_interval);
  ProbeReportSource source([&probes] { return probes.snapshot(); },
                           [&metrics_worker] { return metrics_worker.latest(); });

  AgentFencingHooks fencing_hooks;
  fencing_hooks.role = [&probes] { return probes.snapshot().facts.role; };
  fencing_hooks.on_transition = [&metrics, &session_ptr](bool to_fenced, std::string_view reason) {
    metrics.observeFenceTransition(to_fenced, reason);
    if (Session* s = session_ptr.load()) s->reportNow();
  };
  fencing_hooks.request_report = [&session_ptr] {
    if (Session* s = session_ptr.load()) s->reportNow();
  };
  std::unique_ptr<AgentFencing> fencing = makeFencing(config, clock, std::move(fencing_hooks));
  metrics.setFenced(fencing && fencing->fenced());  // a fence restored from the state dir
  std::unique_ptr<PodLabeler> labeler =
      makePodLabeler(config, clock, probes, fencing.get(), metrics);
  std::unique_ptr<ServiceWatch> watch;
  if (auto watch_options = serviceWatchOptions(config)) {
    watch = std::make_unique<ServiceWatch>(
        *watch_options, [&session_ptr, &fencing](ProcessState state, pid_t pid) {
          log::write(state == ProcessState::kExited ? log::Level::kWarn : log::Level::kInfo,
                     "service process changed",
                     {{"state", std::string(processStateName(state))}, {"pid", pid}});
          if (fencing) fencing->onServiceProcess(state, pid);
          // The controller fails over on an exit without waiting for probe thresholds.
          if (Session* s = session_ptr.load()) s->reportNow();
        });
  }
  source.addAttributes([&config, &fencing, &watch](std::map<std::string, std::string>& attrs) {
    attrs["endpoint_host"] = config.service_host;
    attrs["endpoint_port"] = std::to_string(config.service_port);
    attrs["service_process"] =
        std::string(processStateName(watch ? watch->state() : ProcessState::kUnknown));
    if (fencing) {
      fencing->fillAttributes(attrs);
    } else {
      attrs["fenced"] = "";
      attrs["fenced_by"] = "";
      attrs["fence_applied"] = "0";
      attrs["lease_epoch"] = "";
      attrs["lease_valid"] = "0";
    }
  });

  SessionOptions session_options = sessionOptions(config);
  if (config.insecure_plaintext) {
    log::warn(
        "INSECURE: the controller channel runs in plaintext (--insecure-plaintext); for "
        "local development only");
  } else {
    bool created = false;
    auto pair = transport::loadOrCreateKeyPair(config.state_dir, kAgentKeyName, &created);
    if (!pair.ok()) {
      log::error("cannot load the agent's key pair", {{"error", pair.status().toString()}});
      std::cerr << "noa-agent: " << pair.status().message() << "\n";
      return finish(kExitBadConfig);
    }
    // The public key and its id are what an operator enrolls (noactl keys accept ID).
    log::info(created ? "agent key pair created" : "agent key pair loaded",
              {{"key_id", transport::keyIdOf(pair->public_key).value()},
               {"public_key", pair->public_key},
               {"state_dir", config.state_dir}});
    session_options.dealer.curve_server_key = config.controller_public_key;
    session_options.dealer.curve_public_key = pair->public_key;
    session_options.dealer.curve_secret_key = pair->secret_key;
  }

  if (fencing) {
    session_options.on_lease_grant = [&fencing](MonoTime deadline, uint64_t epoch) {
      fencing->onGrant(deadline, epoch);
    };
  }
  auto executor = openCommandExecutor(config, clock, fencing.get());
  if (!executor.ok()) {
    // Probes and metrics matter more than commands: run without them (the hello advertises no
    // actions, so the controller refuses commands for this agent and says why).
    log::error("commands disabled: cannot set up the command journal; fix the state dir",
               {{"error", executor.status().toString()}, {"state_dir", config.state_dir}});
    executor = std::unique_ptr<commands::CommandExecutor>();
  }

  zmq::context_t context(1);
  Session session(context, std::move(session_options), clock, source, executor->get());
  session_ptr.store(&session);

  std::atomic<bool> session_running{false};
  std::unique_ptr<AgentHttp> http;
  if (!config.http_listen.empty()) {
    AgentHealthFlags flags;
    flags.live = [&] { return session_running.load() && probes.running(); };
    flags.ready = [&] { return session.stats().registered.load(); };
    flags.started = [&] { return source.firstReportBuilt(); };
    flags.before_scrape = [&] {
      metrics.syncSession(session.stats());
      if (*executor) metrics.syncCommands((*executor)->stats());
      metrics.syncScrape(metrics_worker.latest().scrape);
    };
    http = std::make_unique<AgentHttp>(prom, std::move(flags));
    if (Status listening = http->start(config.http_host, config.http_port); !listening.ok()) {
      log::error("cannot start the agent's HTTP listener", {{"error", listening.toString()}});
      std::cerr << "noa-agent: " << listening.message() << "\n";
      return finish(kExitCannotListen);
    }
    log::info("serving health and metrics",
              {{"listen", config.http_host + ":" + std::to_string(http->port())}});
  }

  probes.start();
  metrics_worker.start();
  if (fencing) fencing->start();
  if (labeler) labeler->start();
  if (watch) watch->start();
  session_running.store(true);
  log::info("ready", {{"agent_id", config.agent_id},
                      {"controller", config.controller},
                      {"probes", specs->size()}});

  // The session runs on the main thread, which has nothing else to do: one thread fewer.
  session.run(stop);  // returns once stop is requested, after saying bye
  session_running.store(false);
  // Running actions are cancelled (their children killed, partial output removed); they end as
  // agent_restarted at the next start, and the controller hears so then.
  if (*executor) (*executor)->stop();
  // The service stays as the guard left it (a fence is persisted and applied again at start).
  if (watch) watch->stop();
  if (labeler) labeler->stop();  // before the guard and probes it reads
  if (fencing) fencing->stop();
  probes.stop();
  metrics_worker.stop();
  if (http) http->stop();
  metrics.syncSession(session.stats());
  log::info("stopped", {{"reports_sent", session.stats().reports_sent.load()}});
  return finish(kExitOk);
}

int runShowKey(int argc, const char* const* argv) {
  po::options_description desc("noa-agent show-key flags");
  desc.add_options()("help,h", "print this help")(
      "state-dir", po::value<std::string>()->required(),
      "the agent's state directory (agent.key, agent.pub)");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << "usage: noa-agent show-key --state-dir DIR\n"
                   "Prints the agent's key id and public key (making the pair if there is\n"
                   "none), to enroll it: noactl keys accept ID, or a line in the controller's\n"
                   "--allowlist-file: AGENT_ID PUBLIC_KEY.\n";
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "noa-agent show-key: " << e.what() << "\n";
    return kExitBadConfig;
  }
  auto pair = transport::loadOrCreateKeyPair(vm["state-dir"].as<std::string>(), kAgentKeyName);
  if (!pair.ok()) {
    std::cerr << "noa-agent show-key: " << pair.status().message() << "\n";
    return kExitBadConfig;
  }
  std::cout << "key_id " << transport::keyIdOf(pair->public_key).value() << "\n"
            << "public_key " << pair->public_key << "\n";
  return kExitOk;
}

}  // namespace noa::agent
