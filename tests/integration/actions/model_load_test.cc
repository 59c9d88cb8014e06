// model.load end to end against a llama-server test double (llama.cpp cannot be installed here;
// tests/testing/servers/llama_double.h answers /health, /models/load and a restart hook like
// llama-server would): install + switch + reload in router and restart mode, a URL download
// resumed from a partial, a bad GGUF header and a wrong checksum (nothing switched), and a
// model that never gets healthy (rolled back: the link points to the previous model again and
// the double was asked to load it again).

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/actions/artifact_file.h"
#include "agent/actions/model_load_action.h"
#include "tests/testing/harness/child_process.h"
#include "tests/testing/servers/llama_double.h"
#include "tests/unit/agent/actions/gguf_builder.h"

namespace noa::agent::actions {
namespace {

namespace fs = std::filesystem;
using noa::testing::GgufBuilder;
using noa::testing::LlamaServerDouble;

class ModelLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = dir_.path() + "/store";
    models_ = dir_.path() + "/models";
    fs::create_directories(store_);
    fs::create_directories(models_);
    put("a.gguf", GgufBuilder::tiny('a').build());
    put("b.gguf", GgufBuilder::tiny('b').build());
    put("bad.gguf", "<!DOCTYPE html><html>this is a login page, not a model</html>");
    llama_.setLoadPolls(2);
    llama_.setActiveLink(link());
  }

  void put(const std::string& name, const std::string& bytes) {
    std::ofstream(store_ + "/" + name, std::ios::binary) << bytes;
  }
  std::string sha(const std::string& name) { return sha256OfFile(store_ + "/" + name).value(); }
  std::string link() const { return models_ + "/active.gguf"; }
  std::string linkTarget() const {
    std::error_code ec;
    return fs::read_symlink(link(), ec).string();
  }

  ModelLoadParams params(const std::string& name) {
    ModelLoadParams p;
    p.source = store_ + "/" + name;
    p.expected_sha256 = sha(name);
    p.models_dir = models_;
    p.name = name;
    p.active_link = link();
    p.router_url = llama_.url();
    p.health_url = llama_.url();
    p.load_timeout_ms = 5000;
    p.poll_interval_ms = 20;
    p.lock_dir = dir_.path() + "/locks";
    return p;
  }

  noa::testing::TempDir dir_;
  LlamaServerDouble llama_;
  std::string store_;
  std::string models_;
};

TEST_F(ModelLoadTest, RouterModeInstallsSwitchesAndKeepsThePreviousWithLlamaServerDouble) {
  ActionResult r = runModelLoad(params("a.gguf"), ActionContext{});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(linkTarget(), "a.gguf");
  EXPECT_EQ(r.sha256, sha("a.gguf"));
  EXPECT_EQ(r.details["gguf"]["architecture"], "llama");
  EXPECT_GE(r.details["health_polls"].get<int>(), 3);  // two 503s, then 200

  r = runModelLoad(params("b.gguf"), ActionContext{});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(linkTarget(), "b.gguf");
  EXPECT_EQ(r.details["previous"], "a.gguf");
  EXPECT_EQ(llama_.loads(), (std::vector<std::string>{"a.gguf", "b.gguf"}));
  EXPECT_TRUE(fs::exists(models_ + "/a.gguf"));  // the previous model stays
  EXPECT_FALSE(fs::exists(models_ + "/b.gguf.partial"));

  // Loading what is installed already re-verifies and switches without copying.
  r = runModelLoad(params("a.gguf"), ActionContext{});
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.details["installed"], false);
  EXPECT_EQ(linkTarget(), "a.gguf");
}

TEST_F(ModelLoadTest, RestartCommandModeWithLlamaServerDouble) {
  if (::access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "needs /usr/bin/curl";
  ModelLoadParams p = params("a.gguf");
  p.router_url.clear();
  // Stands in for "systemctl restart llama-server" (which reads -m active.gguf at start).
  p.restart_command = {"/usr/bin/curl", "-fsS", "--data", "", llama_.url() + "/test/restart"};
  ActionResult r = runModelLoad(p, ActionContext{});
  ASSERT_TRUE(r.ok) << r.error << " " << r.stderr_tail;
  EXPECT_EQ(r.details["mode"], "restart");
  EXPECT_EQ(llama_.currentModel(), "a.gguf");
}

TEST_F(ModelLoadTest, DownloadsFromAUrlResumingAPartialWithLlamaServerDouble) {
  httplib::Server store;
  ASSERT_TRUE(store.set_mount_point("/models", store_));
  std::atomic<int> last_status{0};
  store.set_logger(
      [&](const httplib::Request&, const httplib::Response& res) { last_status = res.status; });
  int port = store.bind_to_any_port("127.0.0.1");
  std::thread t([&] { store.listen_after_bind(); });
  while (!store.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::string whole = GgufBuilder::tiny('a').build();
  std::ofstream(models_ + "/a.gguf.partial", std::ios::binary) << whole.substr(0, whole.size() / 2);
  ModelLoadParams p = params("a.gguf");
  p.source = "http://127.0.0.1:" + std::to_string(port) + "/models/a.gguf";
  ActionResult r = runModelLoad(p, ActionContext{});
  store.stop();
  t.join();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(sha256OfFile(models_ + "/a.gguf").value(), sha("a.gguf"));
  EXPECT_FALSE(fs::exists(models_ + "/a.gguf.partial"));
  EXPECT_EQ(last_status.load(), 206);  // only the missing half was fetched
}

TEST_F(ModelLoadTest, BadHeaderIsRefusedAndNothingSwitchedWithLlamaServerDouble) {
  ASSERT_TRUE(runModelLoad(params("a.gguf"), ActionContext{}).ok);
  ActionResult r = runModelLoad(params("bad.gguf"), ActionContext{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, kErrVerifyFailed);
  EXPECT_NE(r.error.find("not a GGUF file"), std::string::npos) << r.error;
  EXPECT_EQ(linkTarget(), "a.gguf");
  EXPECT_FALSE(fs::exists(models_ + "/bad.gguf"));
  EXPECT_FALSE(fs::exists(models_ + "/bad.gguf.partial"));
  EXPECT_EQ(llama_.loads(), (std::vector<std::string>{"a.gguf"}));
}

TEST_F(ModelLoadTest, WrongChecksumSwitchesNothingWithLlamaServerDouble) {
  ASSERT_TRUE(runModelLoad(params("a.gguf"), ActionContext{}).ok);
  ModelLoadParams p = params("b.gguf");
  p.expected_sha256 = sha("a.gguf");
  ActionResult r = runModelLoad(p, ActionContext{});
  EXPECT_EQ(r.error_code, kErrChecksumMismatch) << r.error;
  EXPECT_EQ(linkTarget(), "a.gguf");
  EXPECT_FALSE(fs::exists(models_ + "/b.gguf"));
  EXPECT_FALSE(fs::exists(models_ + "/b.gguf.partial"));
  EXPECT_EQ(llama_.loads(), (std::vector<std::string>{"a.gguf"}));
}

TEST_F(ModelLoadTest, HealthTimeoutRollsBackToThePreviousModelWithLlamaServerDouble) {
  ASSERT_TRUE(runModelLoad(params("a.gguf"), ActionContext{}).ok);
  llama_.failModel("b.gguf");
  ModelLoadParams p = params("b.gguf");
  p.load_timeout_ms = 400;
  ActionResult r = runModelLoad(p, ActionContext{});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, kErrHealthTimeout);
  EXPECT_NE(r.error.find("503"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("rolled back to a.gguf (healthy again)"), std::string::npos) << r.error;
  EXPECT_EQ(r.details["rollback"]["healthy"], true);
  EXPECT_EQ(linkTarget(), "a.gguf");
  EXPECT_EQ(llama_.loads(), (std::vector<std::string>{"a.gguf", "b.gguf", "a.gguf"}));
  EXPECT_TRUE(fs::exists(models_ + "/a.gguf"));
}

}  // namespace
}  // namespace noa::agent::actions
