#include "tests/testing/servers/pg_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "common/process/process.h"

namespace noa::testing {

namespace fs = std::filesystem;

Result<std::unique_ptr<PgServer>> PgServer::start(PgServerOptions options) {
  std::unique_ptr<PgServer> pg(new PgServer(std::move(options)));
  passwd* pw = ::getpwnam(pg->options_.os_user.c_str());
  if (pw == nullptr) return Status::NotFound("os user '" + pg->options_.os_user + "' not found");
  pg->uid_ = pw->pw_uid;
  pg->gid_ = pw->pw_gid;

  NOA_ASSIGN_OR_RETURN(pg->temp_dir_, makeTempDir("noa-pg-"));
  pg->socket_dir_ = pg->temp_dir_;
  pg->log_path_ = pg->temp_dir_ + "/postgres.log";
  pg->data_dir_ = pg->options_.data_dir.empty() ? pg->temp_dir_ + "/data" : pg->options_.data_dir;
  std::error_code ec;
  fs::create_directories(pg->data_dir_, ec);
  if (ec) return Status::IoError("create " + pg->data_dir_ + ": " + ec.message());
  ::chmod(pg->data_dir_.c_str(), 0700);
  NOA_RETURN_IF_ERROR(chownTree(pg->temp_dir_, pg->uid_, pg->gid_));
  if (!pg->options_.data_dir.empty()) {
    NOA_RETURN_IF_ERROR(chownTree(pg->data_dir_, pg->uid_, pg->gid_));
  }
  if (pg->options_.init_if_empty && !fs::exists(pg->data_dir_ + "/PG_VERSION")) {
    NOA_RETURN_IF_ERROR(pg->initDb());
  }

  const bool pick_port = pg->options_.port == 0;
  Status last;
  // A picked port can be taken by someone else before the server binds it: retry a few times.
  for (int attempt = 0; attempt < (pick_port ? 3 : 1); ++attempt) {
    if (pick_port) {
      NOA_ASSIGN_OR_RETURN(pg->port_, pickFreePort());
    } else {
      pg->port_ = pg->options_.port;
    }
    last = pg->start();
    if (last.ok()) return pg;
  }
  return last;
}

PgServer::~PgServer() {
  if (process_.running()) (void)stop(std::chrono::seconds(10));
  process_.kill();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(temp_dir_, ec);
  }
}

Status PgServer::initDb() {
  ProcessSpec spec;
  spec.argv = {options_.bin_dir + "/initdb", "-D", data_dir_, "-U", "postgres", "--auth=trust",
               "-E", "UTF8", "--no-sync", "--no-instructions"};
  for (const auto& a : options_.initdb_args) spec.argv.push_back(a);
  spec.uid = uid_;
  spec.gid = gid_;
  spec.working_dir = temp_dir_;
  spec.timeout = std::chrono::seconds(120);
  NOA_ASSIGN_OR_RETURN(ProcessResult r, runProcess(spec));
  if (r.exit_code != 0) {
    return Status::Internal("initdb failed (exit " + std::to_string(r.exit_code) +
                            "): " + r.stderr_tail + r.stdout_tail);
  }
  return Status::Ok();
}

Status PgServer::start() {
  if (process_.running()) return Status::FailedPrecondition("postgres already running");
  SpawnOptions spawn;
  spawn.argv = {options_.bin_dir + "/postgres",
                "-D", data_dir_,
                "-p", std::to_string(port_),
                "-k", socket_dir_,
                "-c", "listen_addresses=127.0.0.1",
                "-c", "fsync=off",
                "-c", "logging_collector=off"};
  for (const auto& s : options_.settings) {
    spawn.argv.push_back("-c");
    spawn.argv.push_back(s);
  }
  spawn.log_path = log_path_;
  spawn.uid = uid_;
  spawn.gid = gid_;
  NOA_RETURN_IF_ERROR(process_.spawn(spawn));
  Status ready = waitReady();
  if (!ready.ok()) process_.kill();
  return ready;
}

Status PgServer::waitReady() {
  std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) +
                     " user=postgres dbname=postgres connect_timeout=2";
  auto until = std::chrono::steady_clock::now() + options_.ready_timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (process_.exited()) {
      return Status::Unavailable("postgres exited during startup: " + readTail(log_path_));
    }
    if (PQping(ping.c_str()) == PQPING_OK) return Status::Ok();
    // Startup has no event to wait on; a short poll is bounded by ready_timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::DeadlineExceeded("postgres not ready: " + readTail(log_path_));
}

Status PgServer::stop(std::chrono::milliseconds grace) {
  return process_.stop(SIGINT, grace);
}

std::string PgServer::connInfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + dbname +
         " connect_timeout=5";
}

}  // namespace noa::testing
