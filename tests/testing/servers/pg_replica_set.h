#pragma once

// A PostgreSQL 15 primary with streaming replicas for failover tests, all on 127.0.0.1 with
// their own free ports and temp dirs. The primary is initdb'd with what replication and
// pg_rewind need (wal_level=replica, max_wal_senders=10, wal_keep_size=128MB, hot_standby=on,
// wal_log_hints=on), each replica is a `pg_basebackup -R` of it run as postgres and started as
// its own PgServer (application_name = its name). All settings go on the command line (-c), so
// <data>/postmaster.opts holds port, socket dir and settings for an agent's restart.
//
//   auto set = PgReplicaSet::start({.replicas = 2});
//   ASSERT_OK(set);
//   (*set)->member(0) is the primary, member(1..) the replicas, in the order of `names`.
//
// Destruction stops every member and also kills, by the pid in each data dir's postmaster.pid,
// postmasters that someone else (the agent under test) started there. Not thread-safe.

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/testing/servers/pg_server.h"

namespace noa::testing {

struct PgReplicaSetOptions {
  int replicas = 2;
  // synchronous_standby_names = 'ANY 1 (<replica names>)' on the primary.
  bool synchronous = false;
  std::string primary_name = "p0";
  std::vector<std::string> names;     // replica names; default r1, r2, ...
  std::vector<std::string> settings;  // extra -c settings for every member
};

class PgReplicaSet {
 public:
  // Returns once the primary and every replica accept connections and every replica streams.
  static Result<std::unique_ptr<PgReplicaSet>> start(PgReplicaSetOptions options);
  ~PgReplicaSet();
  PgReplicaSet(const PgReplicaSet&) = delete;
  PgReplicaSet& operator=(const PgReplicaSet&) = delete;

  size_t size() const { return members_.size(); }
  // 0 = the initial primary, 1.. = replicas.
  PgServer& member(size_t i) { return *members_.at(i).server; }
  const std::string& name(size_t i) const { return members_.at(i).name; }
  int port(size_t i) const { return members_.at(i).server->port(); }
  const std::string& dataDir(size_t i) const { return members_.at(i).server->dataDir(); }
  std::string conninfo(size_t i, const std::string& dbname = "postgres") const {
    return members_.at(i).server->connInfo(dbname);
  }
  // The -c settings every member was started with ("wal_level=replica", ...).
  const std::vector<std::string>& settings() const { return settings_; }

  // SIGQUIT, then SIGKILL, to the postmaster named in member i's postmaster.pid (whoever
  // started it); the PgServer's own process is killed too.
  void killMember(size_t i);

 private:
  struct Member {
    std::string name;
    std::string temp_dir;  // replicas: holds the basebackup; removed at destruction
    std::unique_ptr<PgServer> server;
  };
  PgReplicaSet() = default;
  Status addReplica(const std::string& name);

  std::vector<std::string> settings_;
  std::vector<Member> members_;
};

// Waits until `conninfo`'s server reports a walreceiver streaming, up to `timeout`.
Status waitStreaming(const std::string& conninfo, std::chrono::milliseconds timeout);

}  // namespace noa::testing
