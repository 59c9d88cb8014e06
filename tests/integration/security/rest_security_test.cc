// REST security with the real binaries: noa-controller serving HTTPS with a certificate made
// here by the openssl CLI (noactl verifies it with --ca-file; a wrong CA fails; plain HTTP to
// the TLS port gets no HTTP answer), the plain-HTTP and --api-auth none rules, and secrets (the
// HS256 secret, tokens, the tokens file's hashes) absent from the log, from --check-config and
// from /v1/health. Every process is killed by PID at the end.

#include <gtest/gtest.h>
#include <httplib.h>
#include <jwt.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "tests/testing/harness/child_process.h"
#include "tests/testing/harness/net.h"
#include "tests/testing/harness/test_credentials.h"
#include "tests/testing/status_matchers.h"

namespace noa::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSecret = "hs256-secret-Zq8v1K-must-never-be-logged-0042";

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct RunResult {
  int code = -1;
  std::string output;  // stdout + stderr
};

class RestSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto creds = TestCredentials::create(path("credentials"));
    ASSERT_OK(creds);
    creds_ = std::move(creds).value();
    api_port_ = freePort();
    zmq_port_ = freePort();
  }
  void TearDown() override {
    if (HasFailure() && controller_) {
      std::cerr << "--- controller log\n" << controller_->logTail(3000) << "\n";
    }
  }

  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }

  // Runs a binary to completion (10 s at most).
  RunResult run(std::vector<std::string> argv, std::vector<std::string> env = {}) {
    const std::string log = path("run-" + std::to_string(++runs_) + ".out");
    auto child = ChildProcess::start(std::move(argv), log, std::move(env));
    EXPECT_TRUE(child.ok()) << child.status().toString();
    if (!child.ok()) return {};
    RunResult r;
    r.code = (*child)->wait(10s);
    r.output = readAll(log);
    return r;
  }

  RunResult openssl(const std::string& args) {
    return run({"/bin/sh", "-c", "cd '" + dir_.path() + "' && openssl " + args});
  }

  // A CA and a server certificate for 127.0.0.1 and localhost signed by it, as `name`-ca.pem,
  // `name`.pem and `name`.key.
  void makeCertificates(const std::string& name) {
    ASSERT_EQ(openssl("req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + name +
                      "-test-ca -keyout " + name + "-ca.key -out " + name + "-ca.pem")
                  .code,
              0);
    ASSERT_EQ(openssl("req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + name +
                      ".key -out " + name + ".csr")
                  .code,
              0);
    std::ofstream(path(name + ".ext")) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    const RunResult signed_cert =
        openssl("x509 -req -in " + name + ".csr -CA " + name + "-ca.pem -CAkey " + name +
                "-ca.key -CAcreateserial -days 2 -extfile " + name + ".ext -out " + name + ".pem");
    ASSERT_EQ(signed_cert.code, 0) << signed_cert.output;
  }

  std::vector<std::string> controllerArgs(std::vector<std::string> extra) {
    std::vector<std::string> argv = {NOA_CONTROLLER_BIN,
                                     "--data-dir",
                                     path("data"),
                                     "--listen",
                                     "tcp://127.0.0.1:" + std::to_string(zmq_port_),
                                     "--api-listen",
                                     "127.0.0.1:" + std::to_string(api_port_)};
    for (auto& a : creds_.controllerArgs()) argv.push_back(std::move(a));
    for (auto& a : extra) argv.push_back(std::move(a));
    return argv;
  }

  void startController(std::vector<std::string> extra, std::vector<std::string> env = {}) {
    auto c = ChildProcess::start(controllerArgs(std::move(extra)), path("controller.log"),
                                 std::move(env));
    ASSERT_OK(c);
    controller_ = std::move(c).value();
  }

  RunResult noactl(std::vector<std::string> args, const std::string& role = "admin",
                   std::vector<std::string> env = {}) {
    std::vector<std::string> argv = {NOA_CTL_BIN};
    for (auto& a : creds_.noactlArgs(role)) argv.push_back(std::move(a));
    for (auto& a : args) argv.push_back(std::move(a));
    env.push_back("HOME=" + dir_.path());  // no developer's ~/.config/noa/noactl.yaml
    return run(std::move(argv), std::move(env));
  }

  TempDir dir_;
  TestCredentials creds_;
  int api_port_ = 0;
  int zmq_port_ = 0;
  int runs_ = 0;
  std::unique_ptr<ChildProcess> controller_;
};

TEST_F(RestSecurityTest, TlsListenerServesVerifiedHttpsAndNoPlainHttp) {
  makeCertificates("server");
  makeCertificates("other");
  ASSERT_FALSE(HasFatalFailure());
  startController(
      {"--api-tls-cert-file", path("server.pem"), "--api-tls-key-file", path("server.key")});
  const std::string url = "https://127.0.0.1:" + std::to_string(api_port_);
  const std::string good_ca = path("server-ca.pem");
  ASSERT_TRUE(waitUntil(
      [&] {
        return noactl({"--controller", url, "--ca-file", good_ca, "agents"}).code == 0;
      },
      15s));

  RunResult ok = noactl({"--controller", url, "--ca-file", good_ca, "status"}, "viewer");
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("ok"), std::string::npos) << ok.output;

  RunResult anonymous = run({NOA_CTL_BIN, "--controller", url, "--ca-file", good_ca, "agents"},
                            {"HOME=" + dir_.path()});
  EXPECT_EQ(anonymous.code, 3) << anonymous.output;
  EXPECT_NE(anonymous.output.find("not authorized (401)"), std::string::npos) << anonymous.output;

  RunResult wrong_ca = noactl({"--controller", url, "--ca-file", path("other-ca.pem"), "agents"});
  EXPECT_EQ(wrong_ca.code, 2) << wrong_ca.output;
  EXPECT_NE(wrong_ca.output.find("certificate does not verify"), std::string::npos)
      << wrong_ca.output;
  RunResult system_cas = noactl({"--controller", url, "agents"});
  EXPECT_EQ(system_cas.code, 2) << "a self-made CA is not among the system's";

  RunResult plain =
      noactl({"--controller", "http://127.0.0.1:" + std::to_string(api_port_), "agents"});
  EXPECT_NE(plain.code, 0);
  auto raw = sendRaw(api_port_, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 2s);
  ASSERT_OK(raw);
  EXPECT_EQ(raw->rfind("HTTP/", 0), std::string::npos) << "plain HTTP got an HTTP answer";

  // The public health route over TLS without a token.
  httplib::SSLClient client("127.0.0.1", api_port_);
  client.set_ca_cert_path(good_ca.c_str());
  client.enable_server_certificate_verification(true);
  auto health = client.Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(controller_->terminate(), 0);
}

TEST_F(RestSecurityTest, PlainHttpAndNoAuthOnlyOnLoopback) {
  auto args = controllerArgs({});
  const auto listen = std::find(args.begin(), args.end(), "--api-listen");
  ASSERT_NE(listen, args.end());
  *(listen + 1) = "0.0.0.0:" + std::to_string(api_port_);
  RunResult refused = run(args);
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_NE(refused.output.find("is not loopback"), std::string::npos) << refused.output;

  RunResult none =
      run({NOA_CONTROLLER_BIN, "--data-dir", path("d2"), "--api-auth", "none",
           "--api-allow-plain-http", "--api-listen", "0.0.0.0:" + std::to_string(api_port_)});
  EXPECT_EQ(none.code, 1) << none.output;
  EXPECT_NE(none.output.find("--api-auth none is allowed only with a loopback"), std::string::npos)
      << none.output;

  RunResult no_source = run({NOA_CONTROLLER_BIN, "--data-dir", path("d3")});
  EXPECT_EQ(no_source.code, 1) << no_source.output;
  EXPECT_NE(no_source.output.find("needs a token source"), std::string::npos) << no_source.output;
}

std::string hs256Jwt(const std::string& sub, const std::string& role, const std::string& secret) {
  jwt_t* raw = nullptr;
  jwt_new(&raw);
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, &jwt_free);
  jwt_add_grant(jwt.get(), "sub", sub.c_str());
  jwt_add_grant(jwt.get(), "role", role.c_str());
  jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(time(nullptr)) + 600);
  jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
              static_cast<int>(secret.size()));
  char* encoded = jwt_encode_str(jwt.get());
  std::string out = encoded;
  free(encoded);  // NOLINT: libjwt allocates with malloc
  return out;
}

TEST_F(RestSecurityTest, SecretsNeverAppearInLogsCheckConfigOrHealth) {
  // A token made the documented way, besides the harness' tokens.
  RunResult made = run({NOA_CONTROLLER_BIN, "token", "new", "--name", "ops", "--role", "operator",
                        "--tokens-file", path("credentials/api-tokens")});
  ASSERT_EQ(made.code, 0) << made.output;
  const std::string new_token = made.output.substr(0, made.output.find('\n'));
  ASSERT_EQ(new_token.size(), 43u) << made.output;
  const std::string tokens_file = readAll(path("credentials/api-tokens"));

  const std::vector<std::string> env = {std::string("NOA_API_JWT_HS256_SECRET=") + kSecret};
  RunResult check = run(controllerArgs({"--check-config"}), env);
  ASSERT_EQ(check.code, 0) << check.output;
  EXPECT_NE(check.output.find("\"api_jwt_hs256_secret\": \"set (from env "
                              "NOA_API_JWT_HS256_SECRET)\""),
            std::string::npos)
      << check.output;

  startController({"--log-level", "debug"}, env);
  ASSERT_TRUE(waitUntil([&] { return httpGet(api_port_, "/v1/health").ok(); }, 15s));
  const std::string jwt = hs256Jwt("ci-bot", "viewer", kSecret);
  const std::string forged = hs256Jwt("mallory", "admin", "a-guessed-secret-of-some-length-1234");
  EXPECT_EQ(httpGet(api_port_, "/v1/agents", new_token)->status, 200);
  EXPECT_EQ(httpGet(api_port_, "/v1/agents", creds_.token("viewer"))->status, 200);
  EXPECT_EQ(httpGet(api_port_, "/v1/agents", jwt)->status, 200);
  EXPECT_EQ(httpGet(api_port_, "/v1/agents", forged)->status, 401);
  EXPECT_EQ(httpGet(api_port_, "/v1/agents", "wrong-token-Xy7")->status, 401);
  EXPECT_EQ(httpGet(api_port_, "/v1/agents")->status, 401);
  auto health = httpGet(api_port_, "/v1/health");
  ASSERT_OK(health);
  EXPECT_EQ(health->status, 200);
  RunResult ctl = noactl(
      {"--controller", "http://127.0.0.1:" + std::to_string(api_port_), "agents"}, "operator");
  EXPECT_EQ(ctl.code, 0) << ctl.output;
  EXPECT_EQ(controller_->terminate(), 0);

  const std::string log = readAll(controller_->logPath());
  ASSERT_NE(log.find("REST API listening"), std::string::npos) << log;
  ASSERT_NE(log.find("api request"), std::string::npos) << "debug request logs were written";
  std::vector<std::string> secrets = {kSecret,
                                      new_token,
                                      jwt,
                                      forged,
                                      "wrong-token-Xy7",
                                      creds_.token("viewer"),
                                      creds_.token("operator"),
                                      creds_.token("admin")};
  // The tokens file's content: its hashes are not secrets, but nothing of it belongs in logs.
  std::istringstream lines(tokens_file);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    secrets.push_back(line.substr(line.rfind(' ') + 1));
  }
  for (const std::string& secret : secrets) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "found in the log: " << secret;
    EXPECT_EQ(check.output.find(secret), std::string::npos) << "in --check-config: " << secret;
    EXPECT_EQ(health->body.find(secret), std::string::npos) << "in /v1/health: " << secret;
  }
}

}  // namespace
}  // namespace noa::testing
