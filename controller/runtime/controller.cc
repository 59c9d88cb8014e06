#include "controller/runtime/controller.h"

#include <prometheus/registry.h>

#include <iostream>
#include <thread>
#include <zmq.hpp>

#include "common/log.h"
#include "common/signal_watcher.h"
#include "common/stop_token.h"
#include "common/transport/router_socket.h"
#include "common/transport/wakeup.h"
#include "controller/api/api_server.h"
#include "controller/audit/audit_log.h"
#include "controller/autoscale/autoscale_coordinator.h"
#include "controller/backups/backup_coordinator.h"
#include "controller/decisions/decision_log.h"
#include "controller/failover/failover_coordinator.h"
#include "controller/ingest/ingest_loop.h"
#include "controller/runtime/controller_state.h"
#include "controller/security/channel_security.h"
#include "controller/store/history_refresh.h"

namespace noa::controller {

// Far below the 1-minute minimum history retention, so the newest report of an agent is always
// still in history when a restart looks for it.
constexpr std::chrono::seconds kRecordCheckpointEvery{5};
// At most this added to an ack under load, against report intervals of a second or more and
// failover detection in whole intervals; tests/bench/README.md has what it saves.
constexpr std::chrono::milliseconds kIngestGatherWindow{2};

int runController(const ControllerConfig& config) {
  StopToken stop;
  std::thread signal_watcher = startSignalWatcher(stop);
  auto finish = [&](int code) {
    stop.requestStop();
    signal_watcher.join();
    return code;
  };

  Clock& clock = systemClock();
  log::info("starting", {{"version", NOA_VERSION}, {"config", toJson(config)}});

  auto opened = Store::open(StoreOptions{config.data_dir, true});
  if (!opened.ok()) {
    log::error("store refused", {{"error", opened.status().toString()}});
    std::cerr << "noa-controller: " << opened.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  std::unique_ptr<Store> store = std::move(opened).value();

  prometheus::Registry prom;
  ControllerMetrics metrics(prom);
  Registry registry;
  auto agents = store->loadAgents();
  if (!agents.ok()) {
    log::error("cannot load agents from store", {{"error", agents.status().toString()}});
    std::cerr << "noa-controller: " << agents.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  auto refreshed = refreshFromHistory(*store, *agents);
  if (!refreshed.ok()) {
    log::error("cannot read agent history from store", {{"error", refreshed.status().toString()}});
    std::cerr << "noa-controller: " << refreshed.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  log::info("store opened", {{"path", config.data_dir},
                             {"agents", agents->size()},
                             {"records_refreshed_from_history", *refreshed}});
  registry.load(std::move(agents).value(), clock.now());
  // Unfinished commands are resumed: each is sent again when its agent says hello.
  auto command_book = commands::CommandBook::open(*store, clock);
  if (!command_book.ok()) {
    log::error("cannot load commands from store", {{"error", command_book.status().toString()}});
    std::cerr << "noa-controller: " << command_book.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  commands::CommandBook& commands = **command_book;
  auto catalog = backups::BackupCatalog::open(*store, clock);
  if (!catalog.ok()) {
    log::error("cannot load the backup catalog", {{"error", catalog.status().toString()}});
    std::cerr << "noa-controller: " << catalog.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  backups::BackupCoordinator backup_coordinator(
      **catalog, commands, [&registry] { return registry.snapshot(); }, config.policy, clock);
  if (Status started = backup_coordinator.start(); !started.ok()) {
    log::error("cannot load the backup schedule", {{"error", started.toString()}});
    std::cerr << "noa-controller: " << started.message() << "\n";
    return finish(kExitStoreRefused);
  }
  auto decision_log = decisions::DecisionLog::open(*store, clock);
  if (!decision_log.ok()) {
    log::error("cannot read the decision log", {{"error", decision_log.status().toString()}});
    std::cerr << "noa-controller: " << decision_log.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  failover::LeaseTable leases;
  failover::FailoverCoordinator failover_coordinator(
      *store, commands, leases, **decision_log,
      [&registry] {
        return registry.snapshotWithoutMetricsOfKinds({"postgres", "redis"});
      },
      config.failover_policy, clock, &prom);
  if (Status started = failover_coordinator.start(); !started.ok()) {
    log::error("cannot load the leader records", {{"error", started.toString()}});
    std::cerr << "noa-controller: " << started.message() << "\n";
    return finish(kExitStoreRefused);
  }
  autoscale::AutoscaleMetrics autoscale_metrics(prom);
  autoscale::AutoscaleCoordinator autoscale_coordinator(
      config.autoscale_policy,
      [&registry](const std::set<std::string>& services) {
        return registry.snapshotIf(
            [&](const AgentRecord& a) { return services.count(a.hello.service) != 0; });
      },
      *store,
      [dlog = decision_log->get()](decisions::DecisionRecord record) {
        return dlog->append(std::move(record)).status();
      },
      clock, &autoscale_metrics);
  if (Status started = autoscale_coordinator.start(); !started.ok()) {
    log::error("cannot start the autoscaler", {{"error", started.toString()}});
    std::cerr << "noa-controller: " << started.message() << "\n";
    return finish(kExitBadConfig);
  }
  transport::Wakeup ingest_wakeup;
  commands.setWakeup([&ingest_wakeup] { ingest_wakeup.notify(); });

  zmq::context_t context(1);
  // Before the ROUTER binds: the ZAP handler must already answer its first handshake.
  auto security = setUpChannelSecurity(config.channel_security, *store, clock, context, prom);
  if (!security.ok()) {
    log::error("agent channel security refused to start",
               {{"error", security.status().toString()}});
    std::cerr << "noa-controller: " << security.status().message() << "\n";
    return finish(kExitBadConfig);
  }
  transport::RouterOptions router_options;
  router_options.bind_endpoint = config.listen;
  security->configure(router_options);
  auto router = transport::RouterSocket::bind(context, router_options);
  if (!router.ok()) {
    log::error("cannot listen for agents", {{"error", router.status().toString()}});
    std::cerr << "noa-controller: " << router.status().message() << "\n";
    return finish(kExitCannotListen);
  }

  ControllerInfo info;
  info.controller_id = config.controller_id;
  info.version = NOA_VERSION;
  info.started_at_ms = toUnixMillis(clock.wallNow());
  info.zmq_endpoint = (*router)->endpoint();
  info.data_dir = config.data_dir;
  info.report_interval_ms = static_cast<uint32_t>(config.report_interval.count());
  info.suspect_after_intervals = config.suspect_after_intervals;
  info.lost_after_intervals = config.lost_after_intervals;
  ControllerState state(info, registry, *store, prom);
  auto audit_log = AuditLog::open(*store);
  if (!audit_log.ok()) {
    log::error("cannot read the audit log", {{"error", audit_log.status().toString()}});
    std::cerr << "noa-controller: " << audit_log.status().message() << "\n";
    return finish(kExitStoreRefused);
  }
  state.attachAudit(audit_log->get());
  state.attachKeys(security->keys.get());
  state.attachCommands(&commands);
  state.attachBackups(&backup_coordinator);
  state.attachFailover(&failover_coordinator);
  state.attachDecisions(decision_log->get());
  state.attachAutoscale(&autoscale_coordinator);
  state.attachStoreGauge(&metrics);

  ApiOptions api_options;
  api_options.host = config.api_host;
  api_options.port = config.api_port;
  api_options.authenticator = config.api_security.authenticator;
  api_options.rate_limit = config.api_security.rate_limit;
  api_options.max_payload_bytes = config.api_security.max_body_bytes;
  api_options.read_timeout = config.api_security.read_timeout;
  api_options.tls_cert_file = config.api_security.tls_cert_file;
  api_options.tls_key_file = config.api_security.tls_key_file;
  api_options.audit = audit_log->get();
  ApiServer api(state, prom, api_options);
  if (Status started = api.start(); !started.ok()) {
    log::error("cannot start REST API", {{"error", started.toString()}});
    std::cerr << "noa-controller: " << started.message() << "\n";
    return finish(kExitCannotListen);
  }

  IngestOptions ingest_options;
  ingest_options.controller_id = config.controller_id;
  ingest_options.liveness = {config.report_interval, config.suspect_after_intervals,
                             config.lost_after_intervals};
  ingest_options.limits.max_bytes = config.max_message_bytes;
  ingest_options.record_checkpoint_every = kRecordCheckpointEvery;
  IngestCore core(registry, clock, metrics, ingest_options, security->keys.get(), &commands);
  core.attachLeases(&leases);
  IngestLoopOptions loop_options;
  loop_options.history_retention = config.history_retention;
  loop_options.gather_window = kIngestGatherWindow;
  loop_options.sweep_every = std::max(std::chrono::milliseconds(50), config.report_interval / 4);
  IngestLoop loop(**router, *store, core, clock, metrics, loop_options, &ingest_wakeup);

  log::info("ready", {{"agents_endpoint", info.zmq_endpoint},
                      {"api", std::string(config.api_security.tls() ? "https://" : "http://") +
                                  config.api_host + ":" + std::to_string(api.port())}});
  // The reconcile thread: decisions that act through commands (backup schedules, catalog,
  // retention). Off the ingest thread, so a slow scan never delays acks.
  std::thread reconcile([&] {
    while (stop.waitFor(std::chrono::seconds(1))) {
      backup_coordinator.tick();
      autoscale_coordinator.tick();
    }
  });
  // Failover has its own, faster tick: detection to promotion must not wait for a backup scan.
  std::thread failover_thread([&] {
    while (stop.waitFor(std::chrono::milliseconds(50))) failover_coordinator.tick();
  });
  int exit_code = kExitOk;
  while (!stop.stopRequested()) {
    Status polled = loop.pollOnce(std::chrono::milliseconds(100));
    if (!polled.ok()) {
      log::error("agent channel failed", {{"error", polled.toString()}});
      exit_code = kExitCannotListen;
      break;
    }
  }
  if (Status flushed = loop.flushRecords(); !flushed.ok()) {
    // Nothing is lost: the reports are in history and the next start takes them from there.
    log::warn("agent records not written at stop", {{"error", flushed.toString()}});
  }
  stop.requestStop();
  reconcile.join();
  failover_thread.join();
  api.stop();
  log::info("stopped");
  return finish(exit_code);
}

int runRepair(int argc, const char* const* argv) {
  po::options_description desc("noa-controller repair flags");
  desc.add_options()("help,h", "print this help")("data-dir", po::value<std::string>()->required(),
                                                  "the store directory to repair");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << "usage: noa-controller repair --data-dir DIR\n"
                   "Runs RocksDB's repair on a store that noa-controller refused as corrupt.\n"
                   "Copy DIR somewhere safe first: unreadable records may be dropped.\n";
      return kExitOk;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "noa-controller repair: " << e.what() << "\n";
    return kExitBadConfig;
  }
  const std::string dir = vm["data-dir"].as<std::string>();
  Status repaired = repairStore(dir);
  if (!repaired.ok()) {
    std::cerr << "noa-controller repair: " << repaired.message() << "\n";
    return kExitStoreRefused;
  }
  std::cout << "repaired " << dir << "; start noa-controller on it again\n";
  return kExitOk;
}

}  // namespace noa::controller
