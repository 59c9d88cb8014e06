// Probes against real things on 127.0.0.1: sockets, a small HTTP server, subprocesses, real
// redis-server and PostgreSQL; the Prober turning a killed server into a failure and back; and
// the noa-agent binary itself.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "agent/probes/checks.h"
#include "agent/probes/prober.h"
#include "common/clock.h"
#include "common/process/process.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"
#include "tests/testing/servers/pg_server.h"
#include "tests/testing/servers/redis_server.h"
#include "tests/testing/servers/server_process.h"
#include "tests/testing/status_matchers.h"

namespace noa::agent {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::freePort;
using testing::TempDir;
using testing::waitUntil;

// A socket listening on 127.0.0.1 (nobody accepts; the kernel completes the handshake).
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(TcpProbe, ListeningPortSucceedsAndClosedPortFails) {
  Listener listener;
  CheckOutcome up = checkTcp({"127.0.0.1", listener.port()}, 500ms);
  EXPECT_TRUE(up.success) << up.detail;
  EXPECT_FALSE(up.facts.has_value());

  CheckOutcome down = checkTcp({"127.0.0.1", freePort()}, 500ms);
  EXPECT_FALSE(down.success);
  EXPECT_NE(down.detail.find("refused"), std::string::npos) << down.detail;
}

// A tiny HTTP server whose /slow handler holds the request until the test ends.
class HttpFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/ok", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("User-Agent"), "text/plain");
    });
    server_.Get("/down", [](const httplib::Request&, httplib::Response& res) { res.status = 503; });
    server_.Get("/huge", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(std::string(4 * 1024 * 1024, 'x'), "text/plain");
    });
    server_.Get("/moved", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/elsewhere", 302);
    });
    server_.Get("/slow", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, 10s, [this] { return released_; });
      res.set_content("late", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    ASSERT_TRUE(waitUntil([this] { return server_.is_running(); }, 5s));
  }
  void TearDown() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  HttpGet get(std::string path) { return HttpGet{"127.0.0.1", port_, std::move(path), "http", {}}; }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};

TEST_F(HttpFixture, StatusCodesTimeoutsAndRefusals) {
  CheckOutcome ok = checkHttp(get("/ok"), 1s);
  EXPECT_TRUE(ok.success) << ok.detail;
  EXPECT_EQ(ok.detail, "HTTP 200");

  CheckOutcome down = checkHttp(get("/down"), 1s);
  EXPECT_FALSE(down.success);
  EXPECT_EQ(down.detail, "HTTP 503");

  // Only the status matters: a 4 MiB body is not read past the cap.
  CheckOutcome huge = checkHttp(get("/huge"), 1s);
  EXPECT_TRUE(huge.success) << huge.detail;
  EXPECT_EQ(huge.detail, "HTTP 200 (body not read past 10 KiB)");

  CheckOutcome moved = checkHttp(get("/moved"), 1s);
  EXPECT_TRUE(moved.success) << moved.detail;  // 3xx is success, not followed
  EXPECT_EQ(moved.detail, "HTTP 302");

  const auto began = std::chrono::steady_clock::now();
  CheckOutcome slow = checkHttp(get("/slow"), 300ms);
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_FALSE(slow.success);
  EXPECT_LT(took, 2s);
  EXPECT_NE(slow.detail.find("GET http://127.0.0.1:" + std::to_string(port_) + "/slow: timed out"),
            std::string::npos)
      << slow.detail;

  HttpGet refused = get("/ok");
  refused.port = freePort();
  CheckOutcome no = checkHttp(refused, 500ms);
  EXPECT_FALSE(no.success);
  EXPECT_NE(no.detail.find("Connection refused"), std::string::npos) << no.detail;
}

TEST(ExecProbe, ExitCodesAndTimeout) {
  CheckOutcome t = checkExec({{"true"}}, 2s);
  EXPECT_TRUE(t.success) << t.detail;
  EXPECT_EQ(t.detail, "exit 0");

  CheckOutcome f = checkExec({{"false"}}, 2s);
  EXPECT_FALSE(f.success);
  EXPECT_EQ(f.detail, "exit 1");

  CheckOutcome said = checkExec({{"sh", "-c", "echo not ready >&2; exit 3"}}, 2s);
  EXPECT_FALSE(said.success);
  EXPECT_EQ(said.detail, "exit 3: not ready");

  const auto began = std::chrono::steady_clock::now();
  CheckOutcome slow = checkExec({{"sleep", "5"}}, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  EXPECT_FALSE(slow.success);
  EXPECT_EQ(slow.detail, "timed out after 300ms");

  CheckOutcome missing = checkExec({{"/nonexistent/noa-probe"}}, 1s);
  EXPECT_FALSE(missing.success);
  EXPECT_NE(missing.detail.find("cannot run"), std::string::npos) << missing.detail;
}

bool isUnsigned(const std::string& s) { return std::regex_match(s, std::regex("[0-9]+")); }

Result<std::unique_ptr<testing::RedisServer>> startRedis(std::vector<std::string> args = {}) {
  testing::RedisServerOptions o;
  o.extra_args = std::move(args);
  return testing::RedisServer::start(std::move(o));
}

TEST(RedisProbe, PrimaryAndReplicaFacts) {
  auto primary = startRedis();
  ASSERT_OK(primary);
  const RedisCheck to_primary{"127.0.0.1", (*primary)->port(), ""};
  CheckOutcome p = checkRedis(to_primary, 1s);
  ASSERT_TRUE(p.success) << p.detail;
  EXPECT_EQ(p.detail, "PONG, primary");
  ASSERT_TRUE(p.facts.has_value());
  EXPECT_EQ(p.facts->role, "primary");
  EXPECT_EQ(p.facts->attributes.at("connected_slaves"), "0");
  EXPECT_TRUE(isUnsigned(p.facts->attributes["master_repl_offset"]));
  EXPECT_TRUE(isUnsigned(p.facts->attributes["used_memory"]));
  EXPECT_FALSE(p.facts->attributes.count("master_link_status"));
  EXPECT_FALSE(p.facts->attributes.count("master_host"));

  auto replica = startRedis({"--replicaof", "127.0.0.1", std::to_string((*primary)->port())});
  ASSERT_OK(replica);
  const RedisCheck to_replica{"127.0.0.1", (*replica)->port(), ""};
  CheckOutcome r;
  ASSERT_TRUE(waitUntil(
      [&] {
        r = checkRedis(to_replica, 1s);
        return r.success && r.facts && r.facts->attributes.count("master_link_status") &&
               r.facts->attributes.at("master_link_status") == "up";
      },
      15s))
      << r.detail;
  EXPECT_EQ(r.detail, "PONG, replica");
  EXPECT_EQ(r.facts->role, "replica");
  EXPECT_EQ(r.facts->attributes["master_host"], "127.0.0.1");
  EXPECT_EQ(r.facts->attributes["master_port"], std::to_string((*primary)->port()));
  EXPECT_TRUE(isUnsigned(r.facts->attributes["slave_repl_offset"]));
  EXPECT_TRUE(isUnsigned(r.facts->attributes["master_repl_offset"]));
  EXPECT_TRUE(isUnsigned(r.facts->attributes["used_memory"]));
  EXPECT_EQ(r.facts->attributes["connected_slaves"], "0");
  ASSERT_TRUE(waitUntil(
      [&] {
        p = checkRedis(to_primary, 1s);
        return p.facts && p.facts->attributes["connected_slaves"] == "1";
      },
      10s));
  EXPECT_EQ(p.facts->role, "primary");
}

TEST(RedisProbe, PasswordIsUsedAndNeverShown) {
  const std::string password = "s3cret-pw";
  auto redis = startRedis({"--requirepass", password});
  ASSERT_OK(redis);
  const int port = (*redis)->port();

  CheckOutcome none = checkRedis({"127.0.0.1", port, ""}, 1s);
  EXPECT_FALSE(none.success);
  EXPECT_NE(none.detail.find("NOAUTH"), std::string::npos) << none.detail;
  ASSERT_TRUE(none.facts.has_value());
  EXPECT_EQ(none.facts->role, "");

  CheckOutcome right = checkRedis({"127.0.0.1", port, password}, 1s);
  EXPECT_TRUE(right.success) << right.detail;
  EXPECT_EQ(right.facts->role, "primary");

  CheckOutcome wrong = checkRedis({"127.0.0.1", port, "not-the-" + password}, 1s);
  EXPECT_FALSE(wrong.success);
  EXPECT_NE(wrong.detail.find("AUTH"), std::string::npos) << wrong.detail;
  EXPECT_EQ(wrong.detail.find(password), std::string::npos) << wrong.detail;
}

TEST(RedisProbe, ClosedPortFailsFast) {
  const auto began = std::chrono::steady_clock::now();
  CheckOutcome c = checkRedis({"127.0.0.1", freePort(), ""}, 500ms);
  EXPECT_FALSE(c.success);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
  EXPECT_NE(c.detail.find("refused"), std::string::npos) << c.detail;
}

// Waits until the prober's snapshot satisfies `pred`.
bool waitForSnapshot(Prober& prober, const std::function<bool(const ProbeSnapshot&)>& pred,
                     std::chrono::milliseconds timeout) {
  return waitUntil([&] { return pred(prober.snapshot()); }, timeout, 20ms);
}

struct Changes {
  std::atomic<int> count{0};
  ProberCallbacks callbacks() {
    ProberCallbacks c;
    c.on_change = [this] { ++count; };
    return c;
  }
};

TEST(Prober, RedisKilledTurnsUnhealthyAndRecoversAfterRestart) {
  auto redis = startRedis();
  ASSERT_OK(redis);
  DefaultProbeOptions o;
  o.period = 200ms;
  o.timeout = 500ms;
  auto specs = defaultProbesFor("redis", "127.0.0.1", (*redis)->port(), o);
  ASSERT_OK(specs);
  Changes changes;
  auto prober = Prober::create(*specs, systemClock(), changes.callbacks());
  ASSERT_OK(prober);
  (*prober)->start();
  auto healthy = [](const ProbeSnapshot& s) { return s.health.state == "healthy"; };
  ASSERT_TRUE(waitForSnapshot(**prober, healthy, 5s));
  EXPECT_EQ((*prober)->snapshot().facts.role, "primary");
  EXPECT_GE(changes.count.load(), 2);  // both probes went unknown -> success

  (*redis)->kill();
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitForSnapshot(
      **prober, [](const ProbeSnapshot& s) { return s.health.state == "unhealthy"; }, 5s));
  // Three failures 200 ms apart, plus the tick in progress.
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 2s);
  const ProbeSnapshot down = (*prober)->snapshot();
  EXPECT_FALSE(down.health.live);
  EXPECT_FALSE(down.health.ready);
  EXPECT_EQ(down.facts.role, "");  // stale facts do not outlive the service
  for (const auto& p : down.health.probes) {
    EXPECT_EQ(p.state, "failure");
    EXPECT_GE(p.consecutive_failures, 3u);
    EXPECT_FALSE(p.detail.empty());
  }

  ASSERT_OK((*redis)->start());
  ASSERT_TRUE(waitForSnapshot(**prober, healthy, 5s));
  const auto stop_began = std::chrono::steady_clock::now();
  (*prober)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_began, 1s);
}

TEST(Prober, StartupGatesTheOthersAndStopIsPrompt) {
  std::atomic<bool> service_started{false};
  std::atomic<int> liveness_runs{0};
  std::atomic<int> startup_runs{0};
  auto check = [&](const ProbeSpec& spec, const StopToken&) {
    if (spec.type == ProbeType::kStartup) {
      ++startup_runs;
      return CheckOutcome{service_started.load(), "startup", std::nullopt};
    }
    if (spec.type == ProbeType::kLiveness) ++liveness_runs;
    return CheckOutcome{true, "ok", std::nullopt};
  };
  auto spec = [](std::string name, ProbeType type) {
    ProbeSpec s;
    s.name = std::move(name);
    s.type = type;
    s.handler = TcpSocket{"127.0.0.1", 1};
    s.period = 100ms;
    s.timeout = 50ms;
    s.failure_threshold = 3;
    return s;
  };
  Changes changes;
  auto prober =
      Prober::create({spec("startup", ProbeType::kStartup), spec("live", ProbeType::kLiveness),
                      spec("ready", ProbeType::kReadiness)},
                     systemClock(), changes.callbacks(), check);
  ASSERT_OK(prober);
  (*prober)->start();
  ASSERT_TRUE(waitUntil([&] { return startup_runs.load() >= 4; }, 3s));
  EXPECT_EQ(liveness_runs.load(), 0);
  EXPECT_EQ((*prober)->snapshot().health.state, "starting");

  service_started = true;
  ASSERT_TRUE(waitForSnapshot(
      **prober, [](const ProbeSnapshot& s) { return s.health.state == "healthy"; }, 3s));
  const int startup_after = startup_runs.load();
  ASSERT_TRUE(waitUntil([&] { return liveness_runs.load() >= 3; }, 3s));
  EXPECT_EQ(startup_runs.load(), startup_after);  // startup stopped after its success

  const auto stop_began = std::chrono::steady_clock::now();
  (*prober)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_began, 100ms);
  EXPECT_FALSE((*prober)->running());
}

TEST(Prober, RefusesInvalidAndDuplicateSpecs) {
  ProbeSpec s;
  s.name = "x";
  s.handler = TcpSocket{"127.0.0.1", 1};
  auto dup = Prober::create({s, s}, systemClock(), {});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("defined twice"), std::string::npos);
  s.period = 10ms;
  EXPECT_FALSE(Prober::create({s}, systemClock(), {}).ok());
}

TEST(ExecProbe, StoppingTheProberCancelsARunningCommand) {
  ProbeSpec s;
  s.name = "slow";
  s.type = ProbeType::kReadiness;
  s.handler = Exec{{"sleep", "30"}};
  s.period = 100ms;
  s.timeout = 20000ms;
  std::atomic<bool> attempted{false};
  ProberCallbacks callbacks;
  auto prober = Prober::create({s}, systemClock(), callbacks,
                               [&](const ProbeSpec& spec, const StopToken& cancel) {
                                 attempted = true;
                                 return runSpecCheck(spec, cancel);
                               });
  ASSERT_OK(prober);
  (*prober)->start();
  ASSERT_TRUE(waitUntil([&] { return attempted.load(); }, 2s));
  const auto stop_began = std::chrono::steady_clock::now();
  (*prober)->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - stop_began, 3s);
}

TEST(PostgresProbe, PrimaryRoleLsnAndRecoveryAfterRestart) {
  auto pg = testing::PgServer::start({});
  ASSERT_OK(pg);
  const PostgresCheck check{(*pg)->connInfo()};
  CheckOutcome c = checkPostgres(check, 2s);
  ASSERT_TRUE(c.success) << c.detail;
  ASSERT_TRUE(c.facts.has_value());
  EXPECT_EQ(c.facts->role, "primary");
  ASSERT_TRUE(c.facts->attributes.count("lsn"));
  EXPECT_TRUE(std::regex_match(c.facts->attributes.at("lsn"), std::regex("[0-9A-F]+/[0-9A-F]+")))
      << c.facts->attributes.at("lsn");
  EXPECT_EQ(c.facts->attributes.at("server_version").substr(0, 2), "15");
  EXPECT_EQ(c.facts->attributes["timeline"], "1");
  EXPECT_EQ(c.facts->attributes["connected_replicas"], "0");
  EXPECT_FALSE(c.facts->attributes.count("replication_lag_bytes"));
  EXPECT_EQ(c.detail, "primary, lsn " + c.facts->attributes.at("lsn"));

  ProbeSpec spec;
  spec.name = "readiness";
  spec.type = ProbeType::kReadiness;
  spec.handler = check;
  spec.period = 200ms;
  spec.timeout = 1000ms;
  Changes changes;
  auto prober = Prober::create({spec}, systemClock(), changes.callbacks());
  ASSERT_OK(prober);
  (*prober)->start();
  auto healthy = [](const ProbeSnapshot& s) { return s.health.state == "healthy"; };
  ASSERT_TRUE(waitForSnapshot(**prober, healthy, 5s));
  EXPECT_EQ((*prober)->snapshot().facts.role, "primary");

  (*pg)->kill();
  ASSERT_TRUE(waitForSnapshot(
      **prober, [](const ProbeSnapshot& s) { return s.health.state == "unhealthy"; }, 5s));
  const ProbeSnapshot down = (*prober)->snapshot();
  EXPECT_EQ(down.health.probes.at(0).state, "failure");
  EXPECT_NE(down.health.probes.at(0).detail.find("connect"), std::string::npos)
      << down.health.probes.at(0).detail;

  ASSERT_OK((*pg)->start());
  ASSERT_TRUE(waitForSnapshot(**prober, healthy, 10s));
  EXPECT_GE(changes.count.load(), 3);
}

// "16/B374D848" -> 0x16B374D848.
uint64_t parseLsn(const std::string& lsn) {
  const size_t slash = lsn.find('/');
  if (slash == std::string::npos) return 0;
  return (std::stoull(lsn.substr(0, slash), nullptr, 16) << 32) |
         std::stoull(lsn.substr(slash + 1), nullptr, 16);
}

// Runs one statement; the error message when it fails.
std::string pgExec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult* res = PQexec(conn, sql.c_str());
    const ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) error = PQresultErrorMessage(res);
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

// A streaming replica of `primary` in dir/replica: pg_basebackup -R (the primary's initdb
// --auth=trust already trusts replication connections from 127.0.0.1, and PG 15 defaults to
// wal_level=replica), then started as a hot standby.
Result<std::unique_ptr<testing::PgServer>> startReplica(const testing::PgServer& primary,
                                                        const TempDir& dir) {
  const std::string data_dir = dir.path() + "/replica";
  std::error_code ec;
  std::filesystem::create_directory(data_dir, ec);
  if (ec) return Status::IoError("create " + data_dir + ": " + ec.message());
  ::chmod(data_dir.c_str(), 0700);
  NOA_RETURN_IF_ERROR(testing::chownTree(data_dir, primary.osUid(), primary.osGid()));
  ProcessSpec backup;
  backup.argv = {primary.binDir() + "/pg_basebackup",
                 "-h",
                 "127.0.0.1",
                 "-p",
                 std::to_string(primary.port()),
                 "-U",
                 "postgres",
                 "-D",
                 data_dir,
                 "-R",
                 "-X",
                 "stream",
                 "-c",
                 "fast",
                 "--no-sync"};
  backup.uid = primary.osUid();
  backup.gid = primary.osGid();
  backup.working_dir = dir.path();
  backup.timeout = 30s;
  NOA_ASSIGN_OR_RETURN(ProcessResult r, runProcess(backup));
  if (r.exit_code != 0) return Status::Internal("pg_basebackup failed: " + r.stderr_tail);
  testing::PgServerOptions o;
  o.data_dir = data_dir;
  o.init_if_empty = false;
  return testing::PgServer::start(std::move(o));
}

TEST(PostgresProbe, PrimaryAndStreamingReplicaFacts) {
  TempDir dir;  // outlives the replica, whose data dir it holds
  auto primary = testing::PgServer::start({});
  ASSERT_OK(primary);
  auto replica = startReplica(**primary, dir);
  ASSERT_OK(replica);
  const PostgresCheck to_primary{(*primary)->connInfo()};
  const PostgresCheck to_replica{(*replica)->connInfo()};

  CheckOutcome p;
  ASSERT_TRUE(waitUntil(
      [&] {
        p = checkPostgres(to_primary, 2s);
        return p.facts && p.facts->attributes["connected_replicas"] == "1";
      },
      10s))
      << p.detail;
  ASSERT_TRUE(p.success) << p.detail;
  EXPECT_EQ(p.facts->role, "primary");
  EXPECT_EQ(p.facts->attributes["timeline"], "1");
  EXPECT_FALSE(p.facts->attributes.count("receive_lsn"));

  // A write on the primary, then the replica catches up with it.
  ASSERT_EQ(pgExec((*primary)->connInfo(),
                   "CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g; "
                   "CREATE ROLE monitor LOGIN"),
            "");
  p = checkPostgres(to_primary, 2s);
  ASSERT_TRUE(p.facts && p.facts->attributes.count("lsn")) << p.detail;
  const uint64_t written = parseLsn(p.facts->attributes["lsn"]);
  ASSERT_GT(written, 0u);

  CheckOutcome r;
  ASSERT_TRUE(waitUntil(
      [&] {
        r = checkPostgres(to_replica, 2s);
        return r.facts && parseLsn(r.facts->attributes["replay_lsn"]) >= written &&
               r.facts->attributes["replication_lag_bytes"] == "0";
      },
      10s))
      << r.detail;
  ASSERT_TRUE(r.success) << r.detail;
  const auto& a = r.facts->attributes;
  EXPECT_EQ(r.facts->role, "replica");
  EXPECT_EQ(r.detail, "replica, lsn " + a.at("replay_lsn"));
  EXPECT_EQ(a.at("lsn"), a.at("replay_lsn"));
  EXPECT_GE(parseLsn(a.at("receive_lsn")), parseLsn(a.at("replay_lsn")));
  EXPECT_EQ(a.at("replication_lag_seconds"), "0");  // caught up
  EXPECT_EQ(a.at("timeline"), "1");
  EXPECT_EQ(a.at("connected_replicas"), "0");
  EXPECT_EQ(a.at("server_version").substr(0, 2), "15");

  // A role without pg_read_all_stats still gets every fact, from the fallbacks.
  CheckOutcome m = checkPostgres({(*replica)->connInfo() + " user=monitor"}, 2s);
  ASSERT_TRUE(m.success) << m.detail;
  ASSERT_TRUE(m.facts.has_value());
  EXPECT_EQ(m.facts->role, "replica");
  EXPECT_EQ(m.facts->attributes["timeline"], "1");
  EXPECT_TRUE(isUnsigned(m.facts->attributes["replication_lag_bytes"]));
  EXPECT_TRUE(std::regex_match(m.facts->attributes["replication_lag_seconds"],
                               std::regex("[0-9]+(\\.[0-9]+)?")));

  // With the primary gone the replica still reports, from what it received.
  (*primary)->kill();
  r = checkPostgres(to_replica, 2s);
  ASSERT_TRUE(r.success) << r.detail;
  EXPECT_EQ(r.facts->role, "replica");
  EXPECT_EQ(r.facts->attributes["timeline"], "1");
  EXPECT_TRUE(isUnsigned(r.facts->attributes["replication_lag_bytes"]));
}

TEST(PostgresProbe, ConnectTimeoutIsSubSecondAndPasswordsStayOut) {
  // A listener that never answers: the handshake hangs until our own deadline.
  Listener silent;
  const auto began = std::chrono::steady_clock::now();
  CheckOutcome c = checkPostgres(
      {"host=127.0.0.1 port=" + std::to_string(silent.port()) + " user=u password=hunter2"}, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
  EXPECT_FALSE(c.success);
  EXPECT_EQ(c.detail, "connect timed out after 300ms");

  CheckOutcome bad = checkPostgres({"host=127.0.0.1 password=hunter2 oops"}, 300ms);
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.detail, "invalid conninfo");
}

#ifdef NOA_AGENT_BIN
TEST(AgentBinary, HelpAndCheckConfig) {
  TempDir dir;
  auto creds = testing::TestCredentials::create(dir.path() + "/credentials");
  ASSERT_OK(creds);
  auto secure = creds->agentArgs("r1");
  ASSERT_OK(secure);
  auto with_secure = [&](std::vector<std::string> argv) {
    for (const auto& arg : *secure) argv.push_back(arg);
    return argv;
  };
  {
    auto c = ChildProcess::start({NOA_AGENT_BIN, "--help"}, dir.path() + "/help.log");
    ASSERT_OK(c);
    EXPECT_EQ((*c)->wait(10s), 0);
    EXPECT_NE((*c)->logTail(20000).find("--http-listen"), std::string::npos) << (*c)->logTail();
  }
  {
    auto c = ChildProcess::start(
        with_secure({NOA_AGENT_BIN, "--check-config", "--agent-id", "r1", "--service", "redis",
                     "--kind", "redis", "--service-port", "6379"}),
        dir.path() + "/ok.log");
    ASSERT_OK(c);
    EXPECT_EQ((*c)->wait(10s), 0);
    EXPECT_NE((*c)->logTail().find("config ok"), std::string::npos) << (*c)->logTail();
  }
  {
    auto c =
        ChildProcess::start(with_secure({NOA_AGENT_BIN, "--check-config", "--agent-id", "r1",
                                         "--service", "redis", "--kind", "redis", "--service-port",
                                         "6379", "--redis-password-file", dir.path() + "/missing"}),
                            dir.path() + "/missing.log");
    ASSERT_OK(c);
    EXPECT_EQ((*c)->wait(10s), 1);
    const std::string out = (*c)->logTail();
    EXPECT_NE(out.find("noa-agent: --redis-password-file"), std::string::npos) << out;
    EXPECT_NE(out.find("See `noa-agent --help`."), std::string::npos) << out;
  }
  {
    auto c = ChildProcess::start({NOA_AGENT_BIN, "--no-such-flag"}, dir.path() + "/bad.log");
    ASSERT_OK(c);
    EXPECT_EQ((*c)->wait(10s), 1);
    EXPECT_NE((*c)->logTail().find("noa-agent: "), std::string::npos) << (*c)->logTail();
  }
}

// --run-as: the agent gives up root before it reads anything and still serves its health.
// Plaintext here because the temp dir holding test keys is not readable by `nobody`.
TEST(AgentBinary, RunAsDropsRootForGood) {
  TempDir dir;
  auto redis = startRedis({});
  ASSERT_OK(redis);
  const int http_port = freePort();
  auto agent = ChildProcess::start(
      {NOA_AGENT_BIN, "--agent-id", "redis-nobody", "--service", "redis", "--kind", "redis",
       "--service-port", std::to_string((*redis)->port()), "--controller",
       "tcp://127.0.0.1:" + std::to_string(freePort()), "--insecure-plaintext", "--http-listen",
       "127.0.0.1:" + std::to_string(http_port), "--run-as", "nobody"},
      dir.path() + "/agent.log");
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto r = testing::httpGet(http_port, "/health");
        return r.ok() && r->status == 200;
      },
      10s))
      << (*agent)->logTail();
  std::ifstream status("/proc/" + std::to_string((*agent)->pid()) + "/status");
  std::string line;
  std::string uid_line;
  while (std::getline(status, line)) {
    if (line.rfind("Uid:", 0) == 0) uid_line = line;
  }
  // Real, effective, saved and filesystem uid are all nobody's (65534 on Debian).
  EXPECT_EQ(uid_line, "Uid:\t65534\t65534\t65534\t65534") << (*agent)->logTail();

  auto unknown = ChildProcess::start({NOA_AGENT_BIN, "--agent-id", "x", "--service", "s",
                                      "--insecure-plaintext", "--run-as", "no-such-user-here"},
                                     dir.path() + "/unknown.log");
  ASSERT_OK(unknown);
  EXPECT_EQ((*unknown)->wait(10s), 1);
  EXPECT_NE((*unknown)->logTail().find("no user 'no-such-user-here'"), std::string::npos)
      << (*unknown)->logTail();
}

TEST(AgentBinary, ServesHealthAndMetricsWithoutAControllerAndStopsOnSigterm) {
  TempDir dir;
  const std::string password = "pw-in-a-file";
  auto redis = startRedis({"--requirepass", password});
  ASSERT_OK(redis);
  { std::ofstream(dir.path() + "/redis.pw") << password << "\n"; }
  const int http_port = freePort();
  auto creds = testing::TestCredentials::create(dir.path() + "/credentials");
  ASSERT_OK(creds);
  auto secure = creds->agentArgs("redis-1");
  ASSERT_OK(secure);
  std::vector<std::string> argv = {NOA_AGENT_BIN,
                                   "--agent-id",
                                   "redis-1",
                                   "--service",
                                   "redis",
                                   "--kind",
                                   "redis",
                                   "--service-port",
                                   std::to_string((*redis)->port()),
                                   "--redis-password-file",
                                   dir.path() + "/redis.pw",
                                   "--controller",
                                   "tcp://127.0.0.1:" + std::to_string(freePort()),
                                   "--report-interval",
                                   "200ms",
                                   "--probe-period",
                                   "200ms",
                                   "--probe-timeout",
                                   "500ms",
                                   "--http-listen",
                                   "127.0.0.1:" + std::to_string(http_port),
                                   "--log-level",
                                   "debug"};
  for (const auto& arg : *secure) argv.push_back(arg);
  auto agent = ChildProcess::start(argv, dir.path() + "/agent.log");
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto r = testing::httpGet(http_port, "/health");
        return r.ok() && r->status == 200;
      },
      10s))
      << (*agent)->logTail();
  auto ready = testing::httpGet(http_port, "/health/ready");
  ASSERT_OK(ready);
  EXPECT_EQ(ready->status, 503);  // no controller to register with
  // Attempts succeed (the password file was read) and show up in /metrics.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto m = testing::httpGet(http_port, "/metrics");
        return m.ok() && m->body.find(
                             "noa_agent_probe_state{handler=\"redis\",probe=\"liveness\","
                             "type=\"liveness\"} 1") != std::string::npos;
      },
      10s))
      << testing::httpGet(http_port, "/metrics")->body << (*agent)->logTail();
  auto metrics = testing::httpGet(http_port, "/metrics");
  ASSERT_OK(metrics);
  EXPECT_NE(metrics->body.find("noa_agent_probe_attempts_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("noa_agent_registered 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("noa_agent_hellos_sent_total"), std::string::npos);

  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
  const std::string log = (*agent)->logTail(200000);
  EXPECT_EQ(log.find(password), std::string::npos);
  EXPECT_NE(log.find("\"msg\":\"stopped\""), std::string::npos) << log;
}
#endif

}  // namespace
}  // namespace noa::agent
