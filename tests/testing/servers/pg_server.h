#pragma once

// A real PostgreSQL 15 server for tests. Runs as the `postgres` user (PostgreSQL refuses root),
// listens on 127.0.0.1 only, with its unix socket in a private temp dir. Stopped by pid on
// destruction, even when the test failed; a temp dir it created is removed.
//
//   auto pg = PgServer::start({});
//   ASSERT_OK(pg);
//   PGconn* c = PQconnectdb((*pg)->connInfo().c_str());
//
// Not thread-safe.

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/testing/servers/server_process.h"

namespace noa::testing {

struct PgServerOptions {
  int port = 0;                  // 0 = pick a free port
  std::string data_dir;          // empty = <temp dir>/data, removed at destruction
  bool init_if_empty = true;     // run initdb when data_dir has no PG_VERSION
  std::vector<std::string> settings;  // extra "-c" settings, e.g. "wal_level=replica"
  std::vector<std::string> initdb_args;  // extra initdb arguments
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  std::string os_user = "postgres";
  std::chrono::milliseconds ready_timeout{30000};
};

class PgServer {
 public:
  // initdb (if needed) and start; returns once the server accepts connections.
  static Result<std::unique_ptr<PgServer>> start(PgServerOptions options);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Fast shutdown (SIGINT to the postmaster), SIGKILL to the group after `grace`.
  Status stop(std::chrono::milliseconds grace = std::chrono::seconds(20));
  // Starts again on the same data dir and port.
  Status start();
  // SIGKILL the whole group (a crash, for failover tests).
  void kill() { process_.kill(); }
  bool running() const { return process_.running(); }

  pid_t pid() const { return process_.pid(); }
  int port() const { return port_; }
  const std::string& dataDir() const { return data_dir_; }
  const std::string& socketDir() const { return socket_dir_; }
  const std::string& logPath() const { return log_path_; }
  const std::string& binDir() const { return options_.bin_dir; }
  uid_t osUid() const { return uid_; }
  gid_t osGid() const { return gid_; }
  // "host=127.0.0.1 port=N user=postgres dbname=<db> connect_timeout=5"
  std::string connInfo(const std::string& dbname = "postgres") const;

 private:
  explicit PgServer(PgServerOptions options) : options_(std::move(options)) {}
  Status initDb();
  Status waitReady();

  PgServerOptions options_;
  ServerProcess process_;
  std::string temp_dir_;  // owned and removed; empty when the caller gave data_dir
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  int port_ = 0;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

}  // namespace noa::testing
