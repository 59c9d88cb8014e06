// The Kubernetes actuator against a Kubernetes API test double: no API server can run here, so
// a small local HTTPS server (cpp-httplib SSLServer, self-signed certificate made by the test)
// plays the apps/v1 `scale` subresource and records the exact requests.

#include "controller/autoscale/actuators/kubernetes_actuator.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/process/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/tls_test_cert.h"

namespace noa::controller::autoscale {
namespace {

constexpr const char* kScalePath = "/apis/apps/v1/namespaces/prod/deployments/mcp/scale";

struct SeenRequest {
  std::string method, path, authorization, content_type, body;
};

class KubernetesApiTestDouble : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/noa_k8s_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    cert_ = dir_ + "/server.crt";
    key_ = dir_ + "/server.key";
    if (!::noa::testing::makeSelfSignedCert(cert_, key_).ok()) {
      GTEST_SKIP() << "openssl cannot make a certificate";
    }
    server_ = std::make_unique<httplib::SSLServer>(cert_.c_str(), key_.c_str());
    ASSERT_TRUE(server_->is_valid());
    auto record = [this](const httplib::Request& req) {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back({req.method, req.path, req.get_header_value("Authorization"),
                       req.get_header_value("Content-Type"), req.body});
    };
    server_->Get(kScalePath, [this, record](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = status_;
      res.set_content(status_ == 200 ? R"({"kind":"Scale","apiVersion":"autoscaling/v1",)"
                                       R"("spec":{"replicas":3},"status":{"replicas":3}})"
                                     : R"({"kind":"Status","message":"the server is busy"})",
                      "application/json");
    });
    server_->Patch(kScalePath, [this, record](const httplib::Request& req, httplib::Response& res) {
      record(req);
      res.status = status_;
      res.set_content(status_ == 200 ? R"({"kind":"Scale","spec":{"replicas":5}})"
                                     : R"({"kind":"Status","message":"Operation cannot be )"
                                       R"(fulfilled: the object has been modified"})",
                      "application/json");
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // listen_after_bind only accepts; the bound socket already queues connections.
    std::ofstream(dir_ + "/token") << "token-1\n";
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
    std::filesystem::remove_all(dir_);
  }

  ActuatorConfig config() const {
    ActuatorConfig c;
    c.type = ActuatorType::kKubernetes;
    c.api_server = "https://127.0.0.1:" + std::to_string(port_);
    c.token_file = dir_ + "/token";
    c.ca_file = cert_;
    c.k8s_namespace = "prod";
    c.workload_name = "mcp";
    c.timeout_ms = 5000;
    return c;
  }

  KubernetesActuator actuator(const ActuatorConfig& c) {
    auto target = resolveKubernetesTarget(c, dir_ + "/no-sa");
    EXPECT_OK(target.status());
    return KubernetesActuator(*target, c.timeout_ms);
  }

  std::vector<SeenRequest> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

  std::string dir_, cert_, key_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  int status_ = 200;
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

TEST_F(KubernetesApiTestDouble, GetsAndPatchesTheScaleSubresourceExactly) {
  KubernetesActuator k8s = actuator(config());
  auto current = k8s.currentReplicas("mcp");
  ASSERT_OK(current.status());
  EXPECT_EQ(*current, 3);
  ASSERT_OK(k8s.setReplicas("mcp", 5));
  auto requests = seen();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, kScalePath);
  EXPECT_EQ(requests[0].authorization, "Bearer token-1");
  EXPECT_EQ(requests[1].method, "PATCH");
  EXPECT_EQ(requests[1].path, kScalePath);
  EXPECT_EQ(requests[1].authorization, "Bearer token-1");
  EXPECT_EQ(requests[1].content_type, "application/merge-patch+json");
  EXPECT_EQ(requests[1].body, R"({"spec":{"replicas":5}})");
}

TEST_F(KubernetesApiTestDouble, RereadsTheRotatedTokenOnEveryCall) {
  KubernetesActuator k8s = actuator(config());
  ASSERT_OK(k8s.currentReplicas("mcp").status());
  std::ofstream(dir_ + "/token") << "token-2\n";
  ASSERT_OK(k8s.setReplicas("mcp", 4));
  EXPECT_EQ(seen().back().authorization, "Bearer token-2");
}

TEST_F(KubernetesApiTestDouble, ConflictAndServerErrorsAreRetryableOthersAreNot) {
  KubernetesActuator k8s = actuator(config());
  status_ = 409;
  Status conflict = k8s.setReplicas("mcp", 5);
  EXPECT_EQ(conflict.code(), StatusCode::kUnavailable);
  EXPECT_EQ(conflict.message(), std::string("PATCH ") + kScalePath +
                                    ": HTTP 409: Operation cannot be fulfilled: the object has "
                                    "been modified");
  status_ = 503;
  EXPECT_EQ(k8s.currentReplicas("mcp").status().code(), StatusCode::kUnavailable);
  status_ = 403;
  EXPECT_EQ(k8s.setReplicas("mcp", 5).code(), StatusCode::kPermissionDenied);
}

TEST_F(KubernetesApiTestDouble, RefusesAServerItsCaDoesNotVouchFor) {
  ActuatorConfig c = config();
  c.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // the system CAs never signed our cert
  KubernetesActuator k8s = actuator(c);
  Status s = k8s.setReplicas("mcp", 5);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.toString();
  EXPECT_TRUE(seen().empty());
}

TEST_F(KubernetesApiTestDouble, KubeconfigWithInlineCaAndToken) {
  std::ifstream in(cert_);
  std::stringstream pem;
  pem << in.rdbuf();
  const std::string text = pem.str();
  std::string b64(4 * ((text.size() + 2) / 3) + 1, '\0');
  b64.resize(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                             reinterpret_cast<const unsigned char*>(text.data()),
                             static_cast<int>(text.size())));
  const std::string kubeconfig = dir_ + "/kubeconfig";
  std::ofstream(kubeconfig) << "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                               "contexts:\n- name: test\n  context: {cluster: c, user: u, "
                               "namespace: prod}\n"
                               "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:"
                            << port_ << "\n    certificate-authority-data: " << b64 << "\n"
                            << "users:\n- name: u\n  user: {token: kube-token}\n";
  ActuatorConfig c;
  c.type = ActuatorType::kKubernetes;
  c.kubeconfig = kubeconfig;
  c.workload_name = "mcp";
  KubernetesActuator k8s = actuator(c);
  ASSERT_OK(k8s.setReplicas("mcp", 2));
  EXPECT_EQ(seen().back().authorization, "Bearer kube-token");
  EXPECT_EQ(seen().back().path, kScalePath);
}

TEST(KubernetesTarget, InClusterUsesTheServiceAccount) {
  const std::string sa = ::testing::TempDir() + "/noa_sa_" + std::to_string(::getpid());
  std::filesystem::create_directories(sa);
  std::ofstream(sa + "/namespace") << "team-a\n";
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ActuatorConfig c;
  c.workload_kind = "statefulsets";
  c.workload_name = "ui";
  auto t = resolveKubernetesTarget(c, sa);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_OK(t.status());
  EXPECT_EQ(t->server, "https://10.96.0.1:443");
  EXPECT_EQ(t->token_file, sa + "/token");
  EXPECT_EQ(t->ca_file, sa + "/ca.crt");
  EXPECT_EQ(t->scale_path, "/apis/apps/v1/namespaces/team-a/statefulsets/ui/scale");
  EXPECT_EQ(resolveKubernetesTarget(c, sa).status().code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(sa);
}

}  // namespace
}  // namespace noa::controller::autoscale
