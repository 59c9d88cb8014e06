#include "tests/testing/servers/pg_replica_set.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/process/process.h"
#include "tests/testing/servers/pg_sql.h"

namespace noa::testing {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

pid_t pidFromPidFile(const std::string& data_dir) {
  std::ifstream in(data_dir + "/postmaster.pid");
  long pid = 0;
  if (!(in >> pid)) return 0;
  return static_cast<pid_t>(pid < 0 ? -pid : pid);
}

// The postmaster of an agent-started server is not our child: wait for it to disappear.
void killPostmaster(const std::string& data_dir) {
  pid_t pid = pidFromPidFile(data_dir);
  if (pid <= 1 || ::kill(pid, 0) != 0) return;
  ::kill(pid, SIGQUIT);  // immediate shutdown: the postmaster takes its backends with it
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    if (::kill(pid, 0) != 0) return;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    size_t close = text.rfind(')');
    if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'Z') return;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ::kill(pid, SIGKILL);
}

}  // namespace

Status waitStreaming(const std::string& conninfo, milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < until) {
    auto rows = pgQuery(conninfo, "select status from pg_stat_wal_receiver");
    if (!rows.empty() && !rows[0].empty() && rows[0][0] == "streaming") return Status::Ok();
    last = rows.empty() || rows[0].empty() ? "no walreceiver" : rows[0][0];
    std::this_thread::sleep_for(milliseconds(50));
  }
  return Status::DeadlineExceeded("not streaming: " + last);
}

Result<std::unique_ptr<PgReplicaSet>> PgReplicaSet::start(PgReplicaSetOptions options) {
  std::unique_ptr<PgReplicaSet> set(new PgReplicaSet());
  if (options.names.empty()) {
    for (int i = 1; i <= options.replicas; ++i) options.names.push_back("r" + std::to_string(i));
  }
  if (static_cast<int>(options.names.size()) != options.replicas) {
    return Status::InvalidArgument("PgReplicaSet: names must list one name per replica");
  }
  set->settings_ = {"wal_level=replica", "max_wal_senders=10", "wal_keep_size=128MB",
                    "hot_standby=on",    "wal_log_hints=on",   "max_connections=30"};
  // A replica that lost its primary retries quickly instead of every 5 s (the default).
  set->settings_.push_back("wal_retrieve_retry_interval=200ms");
  for (const auto& s : options.settings) set->settings_.push_back(s);

  PgServerOptions primary;
  primary.settings = set->settings_;
  // Also the walreceiver's application_name when primary_conninfo names none.
  primary.settings.push_back("cluster_name=" + options.primary_name);
  if (options.synchronous) {
    std::string list;
    for (const auto& n : options.names) list += (list.empty() ? "" : ", ") + n;
    primary.settings.push_back("synchronous_standby_names=ANY 1 (" + list + ")");
  }
  NOA_ASSIGN_OR_RETURN(auto server, PgServer::start(primary));
  set->members_.push_back(Member{options.primary_name, "", std::move(server)});
  for (const auto& name : options.names) NOA_RETURN_IF_ERROR(set->addReplica(name));
  for (size_t i = 1; i < set->members_.size(); ++i) {
    NOA_RETURN_IF_ERROR(waitStreaming(set->conninfo(i), std::chrono::seconds(30))
                            .withContext("replica " + set->name(i)));
  }
  // A walreceiver says "streaming" before it has caught up; the primary's walsender state (and
  // with it sync_state) is what tests read.
  const std::string want = std::to_string(options.replicas);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (true) {
    auto rows = pgQuery(set->conninfo(0),
                        "select count(*) from pg_stat_replication where state = 'streaming'");
    if (!rows.empty() && !rows[0].empty() && rows[0][0] == want) break;
    if (std::chrono::steady_clock::now() >= until) {
      return Status::DeadlineExceeded("the primary does not see " + want + " streaming replicas");
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return set;
}

Status PgReplicaSet::addReplica(const std::string& name) {
  PgServer& primary = *members_.at(0).server;
  NOA_ASSIGN_OR_RETURN(std::string temp, makeTempDir("noa-pgrep-"));
  members_.push_back(Member{name, temp, nullptr});
  NOA_RETURN_IF_ERROR(chownTree(temp, primary.osUid(), primary.osGid()));
  const std::string data = temp + "/data";
  ProcessSpec spec;
  spec.argv = {primary.binDir() + "/pg_basebackup",
               "-R",
               "-X",
               "stream",
               "-c",
               "fast",
               "--no-sync",
               "-D",
               data,
               "-d",
               "host=127.0.0.1 port=" + std::to_string(primary.port()) +
                   " user=postgres application_name=" + name};
  spec.uid = primary.osUid();
  spec.gid = primary.osGid();
  spec.working_dir = temp;
  spec.timeout = std::chrono::seconds(120);
  NOA_ASSIGN_OR_RETURN(ProcessResult r, runProcess(spec));
  if (r.exit_code != 0) {
    return Status::Internal("pg_basebackup for " + name + " failed (exit " +
                            std::to_string(r.exit_code) + "): " + r.stderr_tail);
  }
  PgServerOptions o;
  o.data_dir = data;
  o.init_if_empty = false;
  o.settings = settings_;
  o.settings.push_back("cluster_name=" + name);
  NOA_ASSIGN_OR_RETURN(members_.back().server, PgServer::start(o));
  return Status::Ok();
}

void PgReplicaSet::killMember(size_t i) {
  Member& m = members_.at(i);
  if (m.server) {
    killPostmaster(m.server->dataDir());
    m.server->kill();
  }
}

PgReplicaSet::~PgReplicaSet() {
  for (size_t i = 0; i < members_.size(); ++i) killMember(i);
  for (auto& m : members_) {
    m.server.reset();
    if (!m.temp_dir.empty()) {
      std::error_code ec;
      fs::remove_all(m.temp_dir, ec);
    }
  }
}

}  // namespace noa::testing
