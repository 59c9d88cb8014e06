// The pod labeler: which label when (pure), when to patch (fake clock), its flags, and the PATCH
// against a Kubernetes API test double: no API server can run here, so a small local HTTPS
// server (cpp-httplib SSLServer, self-signed certificate made by the test) plays the pods
// endpoint and records the exact requests.

#include "agent/runtime/pod_labeler.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "agent/runtime/agent_config.h"
#include "common/process/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tls_test_cert.h"

namespace noa::agent {
namespace {

using std::chrono::milliseconds;

TEST(PodLabelDecision, PrimaryOnlyWithAValidUnfencedLease) {
  EXPECT_EQ(wantedPodRole(ServiceRole::kPrimary, true, false), "primary");
  EXPECT_EQ(wantedPodRole(ServiceRole::kPrimary, false, false), "replica");  // lease lost
  EXPECT_EQ(wantedPodRole(ServiceRole::kPrimary, true, true), "replica");    // fenced
  EXPECT_EQ(wantedPodRole(ServiceRole::kPrimary, false, true), "replica");
  EXPECT_EQ(wantedPodRole(ServiceRole::kReplica, true, false), "replica");
  EXPECT_EQ(wantedPodRole(ServiceRole::kUnknown, true, false), "replica");  // service down
}

TEST(PodLabelSchedule, PatchesOnChangeReassertsAndBacksOff) {
  PodLabelSchedule s({milliseconds(30000), milliseconds(500), milliseconds(2000)});
  const MonoTime t0{};
  EXPECT_TRUE(s.due(t0, "replica"));  // nothing applied yet
  s.finished(t0, "replica", true);
  EXPECT_FALSE(s.due(t0 + milliseconds(100), "replica"));
  EXPECT_TRUE(s.due(t0 + milliseconds(100), "primary"));  // a change: at once
  EXPECT_TRUE(s.due(t0 + milliseconds(30000), "replica"));  // re-asserted
  s.finished(t0 + milliseconds(200), "primary", false);
  EXPECT_EQ(s.backoff(), milliseconds(500));
  EXPECT_FALSE(s.due(t0 + milliseconds(600), "primary"));
  EXPECT_TRUE(s.due(t0 + milliseconds(700), "primary"));
  s.finished(t0 + milliseconds(700), "primary", false);
  s.finished(t0 + milliseconds(1700), "primary", false);
  s.finished(t0 + milliseconds(3700), "primary", false);
  EXPECT_EQ(s.backoff(), milliseconds(2000));  // capped
  s.finished(t0 + milliseconds(5700), "primary", true);
  EXPECT_EQ(s.backoff(), milliseconds(0));
  EXPECT_EQ(s.applied(), "primary");
}

Status parse(std::vector<const char*> args, AgentConfig& config, const char* kind = "postgres") {
  args.insert(args.begin(), {"noa-agent", "--agent-id", "pg-0", "--service", "pg", "--kind", kind,
                             "--service-port", "5432", "--insecure-plaintext"});
  return parseAgentConfig(static_cast<int>(args.size()), args.data(), config);
}

TEST(PodLabelFlags, OffByDefaultAndCompleteWhenOn) {
  AgentConfig config;
  ASSERT_OK(parse({}, config));
  EXPECT_EQ(config.k8s_pod_label, "");
  const std::string token = ::testing::TempDir() + "/noa_pod_label_token";
  std::ofstream(token) << "t\n";
  ASSERT_OK(parse({"--k8s-pod-label", "noa.dev/role", "--k8s-api-server", "https://10.0.0.1:443",
                   "--k8s-token-file", token.c_str(), "--k8s-ca-file", "", "--k8s-namespace",
                   "noa", "--k8s-pod", "postgres-0"},
                  config));
  EXPECT_EQ(config.k8s_pod_label, "noa.dev/role");
  EXPECT_EQ(toJson(config)["k8s_pod"], "postgres-0");
  ASSERT_OK(parse({"--k8s-pod-label", "--k8s-api-server", "https://10.0.0.1:443",
                   "--k8s-token-file", token.c_str(), "--k8s-ca-file", "", "--k8s-namespace",
                   "noa", "--k8s-pod", "postgres-0"},
                  config));
  EXPECT_EQ(config.k8s_pod_label, "role");  // the switch alone
}

TEST(PodLabelFlags, ErrorsNameTheFlag) {
  AgentConfig config;
  const std::string token = ::testing::TempDir() + "/noa_pod_label_token";
  std::ofstream(token) << "t\n";
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  Status s = parse({"--k8s-pod-label", "role", "--k8s-token-file", token.c_str()}, config);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--k8s-api-server"), std::string::npos) << s.message();
  s = parse({"--k8s-pod-label", "role", "--k8s-api-server", "http://10.0.0.1"}, config);
  EXPECT_NE(s.message().find("https"), std::string::npos) << s.message();
  s = parse({"--k8s-pod-label", "role", "--k8s-api-server", "https://10.0.0.1",
             "--k8s-token-file", "/nonexistent/token"},
            config);
  EXPECT_NE(s.message().find("--k8s-token-file"), std::string::npos) << s.message();
  s = parse({"--k8s-pod-label", "bad label!"}, config);
  EXPECT_NE(s.message().find("--k8s-pod-label"), std::string::npos) << s.message();
  s = parse({"--k8s-pod-label", "role"}, config, "tcp");
  EXPECT_NE(s.message().find("--kind"), std::string::npos) << s.message();
}

struct SeenRequest {
  std::string method, path, authorization, content_type, body;
};

class PodLabelerKubernetesApiTestDouble : public ::testing::Test {
 protected:
  static constexpr const char* kPodPath = "/api/v1/namespaces/noa/pods/postgres-0";

  void SetUp() override {
    dir_ = ::testing::TempDir() + "/noa_pod_label_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    cert_ = dir_ + "/server.crt";
    key_ = dir_ + "/server.key";
    if (!::noa::testing::makeSelfSignedCert(cert_, key_).ok()) {
      GTEST_SKIP() << "openssl cannot make a certificate";
    }
    server_ = std::make_unique<httplib::SSLServer>(cert_.c_str(), key_.c_str());
    ASSERT_TRUE(server_->is_valid());
    server_->Patch(kPodPath, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back({req.method, req.path, req.get_header_value("Authorization"),
                       req.get_header_value("Content-Type"), req.body});
      res.status = status_.load();
      res.set_content(res.status == 200
                          ? R"({"kind":"Pod","metadata":{"name":"postgres-0"}})"
                          : R"({"kind":"Status","message":"pods \"postgres-0\" is forbidden"})",
                      "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    std::ofstream(dir_ + "/token") << "secret-token-1\n";
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(dir_);
  }

  PodLabelTarget target() const {
    PodLabelTarget t;
    t.api_server = "https://127.0.0.1:" + std::to_string(port_);
    t.token_file = dir_ + "/token";
    t.ca_file = cert_;
    t.k8s_namespace = "noa";
    t.pod = "postgres-0";
    t.timeout = milliseconds(5000);
    return t;
  }

  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

  std::string dir_, cert_, key_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> status_{200};
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

TEST_F(PodLabelerKubernetesApiTestDouble, PatchesThePodLabelExactly) {
  ASSERT_OK(patchPodLabel(target(), "role", "primary"));
  auto requests = seen();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PATCH");
  EXPECT_EQ(requests[0].path, kPodPath);
  EXPECT_EQ(requests[0].authorization, "Bearer secret-token-1");
  EXPECT_EQ(requests[0].content_type, "application/merge-patch+json");
  EXPECT_EQ(requests[0].body, R"({"metadata":{"labels":{"role":"primary"}}})");
}

TEST_F(PodLabelerKubernetesApiTestDouble, RereadsTheRotatedToken) {
  ASSERT_OK(patchPodLabel(target(), "noa.dev/role", "replica"));
  std::ofstream(dir_ + "/token") << "secret-token-2\n";
  ASSERT_OK(patchPodLabel(target(), "noa.dev/role", "replica"));
  EXPECT_EQ(seen().back().authorization, "Bearer secret-token-2");
  EXPECT_EQ(seen().back().body, R"({"metadata":{"labels":{"noa.dev/role":"replica"}}})");
}

TEST_F(PodLabelerKubernetesApiTestDouble, ErrorsSayWhyAndNeverCarryTheToken) {
  status_ = 403;
  Status s = patchPodLabel(target(), "role", "primary");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("forbidden"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("secret-token"), std::string::npos);
  PodLabelTarget untrusted = target();
  untrusted.ca_file = dir_ + "/token";  // not a CA: the server's certificate is not trusted
  s = patchPodLabel(untrusted, "role", "primary");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(seen().size(), 1u);  // the untrusted call never reached the handler
}

TEST_F(PodLabelerKubernetesApiTestDouble, LabelerFollowsTheLeaseAndCountsPatches) {
  std::mutex mu;
  PodLabelInputs inputs{ServiceRole::kPrimary, true, false};
  std::atomic<int> ok{0}, failed{0};
  PodLabelerOptions options;
  options.target = target();
  options.poll = milliseconds(10);
  PodLabelerHooks hooks;
  hooks.inputs = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return inputs;
  };
  hooks.on_patch = [&](bool good) { (good ? ok : failed)++; };
  PodLabeler labeler(options, systemClock(), hooks);
  labeler.start();
  auto wait_for = [&](size_t n) {
    for (int i = 0; i < 500 && seen().size() < n; ++i) std::this_thread::sleep_for(milliseconds(10));
    return seen().size();
  };
  ASSERT_EQ(wait_for(1), 1u);
  EXPECT_EQ(seen()[0].body, R"({"metadata":{"labels":{"role":"primary"}}})");
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(seen().size(), 1u);  // only on change
  {
    std::lock_guard<std::mutex> lock(mu);
    inputs.fenced = true;  // the guard fenced it: out of the primary Service
  }
  ASSERT_EQ(wait_for(2), 2u);
  EXPECT_EQ(seen()[1].body, R"({"metadata":{"labels":{"role":"replica"}}})");
  status_ = 500;
  {
    std::lock_guard<std::mutex> lock(mu);
    inputs = {ServiceRole::kPrimary, true, false};
  }
  ASSERT_GE(wait_for(4), 4u);  // the failure is retried (after 500 ms of back-off)
  status_ = 200;
  for (int i = 0; i < 500 && ok.load() < 3; ++i) std::this_thread::sleep_for(milliseconds(10));
  labeler.stop();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_GE(failed.load(), 2);
  EXPECT_EQ(seen().back().body, R"({"metadata":{"labels":{"role":"primary"}}})");
}

}  // namespace
}  // namespace noa::agent
