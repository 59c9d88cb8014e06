// Self-fencing of a real PostgreSQL 15 primary: without the lease the agent stops it (fast
// shutdown), and when grants resume it starts it again with the command line it last ran with.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fencing/fake_controller.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/servers/pg_server.h"
#include "tests/testing/servers/pg_sql.h"
#include "tests/testing/status_matchers.h"

namespace noa {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::FakeController;
using testing::Mode;
using testing::TempDir;
using testing::waitUntil;

bool pgAcceptsWrites(const std::string& conninfo) {
  return testing::pgExec(conninfo + " connect_timeout=1",
                         "CREATE TABLE IF NOT EXISTS fencing_probe(x int); "
                         "INSERT INTO fencing_probe VALUES (1)")
      .empty();
}

TEST(PgFencingTest, PrimaryIsStoppedWithoutLeaseAndStartedAgainWhenGrantsResume) {
  auto pg = testing::PgServer::start({});
  ASSERT_OK(pg);
  const std::string conninfo = (*pg)->connInfo();
  const std::string data_dir = (*pg)->dataDir();
  const std::string bin_dir = (*pg)->binDir();
  // The agent restarts the server itself, outside PgServer's knowledge: stop whatever runs on
  // the data dir at the end, whatever happened.
  struct StopAtEnd {
    std::string bin, dir;
    ~StopAtEnd() {
      std::string cmd = "runuser -u postgres -- " + bin + "/pg_ctl stop -D " + dir +
                        " -m immediate >/dev/null 2>&1";
      (void)std::system(cmd.c_str());
    }
  } stop_at_end{bin_dir, data_dir};

  FakeController controller;
  ASSERT_TRUE(controller.ok());
  TempDir dir;
  std::vector<std::string> argv = {NOA_AGENT_BIN,      "--agent-id",      "pg-fence",
                                   "--service",        "postgres",        "--kind",
                                   "postgres",         "--service-port",  std::to_string((*pg)->port()),
                                   "--pg-conninfo",    conninfo,          "--pg-data-dir",
                                   data_dir,           "--pg-bin-dir",    bin_dir,
                                   "--controller",     controller.endpoint(),
                                   "--insecure-plaintext",
                                   "--state-dir",      dir.path() + "/state",
                                   "--report-interval", "200ms",          "--probe-period",
                                   "200ms",            "--probe-timeout", "500ms",
                                   "--lease",          "1s",              "--log-level",
                                   "debug"};
  auto agent = ChildProcess::start(argv, dir.path() + "/agent.log");
  ASSERT_OK(agent);
  ASSERT_TRUE(waitUntil(
      [&] {
        auto r = controller.lastReport();
        return r && r->role == "primary" && controller.attribute("lease_valid") == "1" &&
               controller.attribute("service_process") == "running";
      },
      15s))
      << (*agent)->logTail();
  std::this_thread::sleep_for(1500ms);
  ASSERT_TRUE(pgAcceptsWrites(conninfo));

  const auto silent_at = std::chrono::steady_clock::now();
  controller.setMode(Mode::kSilent);
  ASSERT_TRUE(waitUntil([&] { return !pgAcceptsWrites(conninfo); }, 10s, 50ms))
      << (*agent)->logTail();
  EXPECT_LT(std::chrono::steady_clock::now() - silent_at, 5s);
  controller.setMode(Mode::kAckOnly);
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("fenced") == "no_lease"; }, 5s))
      << (*agent)->logTail();
  EXPECT_EQ(controller.attribute("fenced_by"), "pg_stop");
  ASSERT_TRUE(waitUntil([&] { return controller.attribute("service_process") == "exited"; }, 5s));
  std::this_thread::sleep_for(1s);
  EXPECT_FALSE(pgAcceptsWrites(conninfo));  // stays down without a lease

  controller.setMode(Mode::kGrant);
  ASSERT_TRUE(waitUntil([&] { return pgAcceptsWrites(conninfo); }, 30s, 200ms))
      << (*agent)->logTail();
  ASSERT_TRUE(waitUntil(
      [&] {
        return controller.attribute("fenced") == "" &&
               controller.attribute("service_process") == "running";
      },
      5s))
      << (*agent)->logTail();
  EXPECT_EQ((*agent)->terminate(5s), 0) << (*agent)->logTail();
}

}  // namespace
}  // namespace noa
