#include "controller/autoscale/actuators/kubernetes_actuator.h"

#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace noa::controller::autoscale {
namespace {

Result<std::string> readFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(std::string(what) + " '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Result<std::string> base64Decode(const std::string& in) {
  std::string out(in.size() * 3 / 4 + 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return Status::InvalidArgument("certificate-authority-data is not base64");
  size_t len = static_cast<size_t>(n);
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --len;  // padding decodes as 0
  out.resize(len);
  return out;
}

YAML::Node named(const YAML::Node& list, const std::string& name) {
  if (!list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].Scalar() == name) return item;
  }
  return YAML::Node();
}

// kubeconfig -> server, CA, token, namespace of the current context. yaml-cpp throws; caught
// by the caller.
Status fromKubeconfig(const std::string& path, KubernetesTarget& t) {
  NOA_ASSIGN_OR_RETURN(std::string text, readFile(path, "kubeconfig"));
  const YAML::Node root = YAML::Load(text);
  const std::string current = root["current-context"] ? root["current-context"].Scalar() : "";
  const YAML::Node context = named(root["contexts"], current)["context"];
  if (!context) return Status::InvalidArgument("kubeconfig '" + path + "': no current context");
  const YAML::Node cluster =
      named(root["clusters"], context["cluster"] ? context["cluster"].Scalar() : "")["cluster"];
  if (!cluster || !cluster["server"]) {
    return Status::InvalidArgument("kubeconfig '" + path +
                                   "': the context's cluster has no server");
  }
  if (t.server.empty()) t.server = cluster["server"].Scalar();
  if (t.ca_file.empty() && cluster["certificate-authority"]) {
    t.ca_file = cluster["certificate-authority"].Scalar();
  }
  if (t.ca_file.empty() && cluster["certificate-authority-data"]) {
    NOA_ASSIGN_OR_RETURN(t.ca_data, base64Decode(cluster["certificate-authority-data"].Scalar()));
  }
  if (context["namespace"] && t.k8s_namespace.empty()) {
    t.k8s_namespace = context["namespace"].Scalar();
  }
  const YAML::Node user =
      named(root["users"], context["user"] ? context["user"].Scalar() : "")["user"];
  if (user && t.token_file.empty()) {
    if (user["token"]) t.token = user["token"].Scalar();
    if (user["tokenFile"]) t.token_file = user["tokenFile"].Scalar();
  }
  return Status::Ok();
}

X509_STORE* storeFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return nullptr;
  X509_STORE* store = X509_STORE_new();
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  BIO_free(bio);
  if (added == 0) {
    X509_STORE_free(store);
    return nullptr;
  }
  return store;
}

Status httpStatus(int code, const std::string& body, const std::string& what) {
  std::string message = what + ": HTTP " + std::to_string(code);
  // The API server answers errors with a Status object; its message says what went wrong.
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) {
    message += ": " + j["message"].get<std::string>();
  }
  if (code == 401 || code == 403) return Status::PermissionDenied(message);
  if (code == 404) return Status::NotFound(message);
  if (code == 409 || code == 429 || code >= 500) return Status::Unavailable(message);
  return Status::FailedPrecondition(message);
}

}  // namespace

Result<KubernetesTarget> resolveKubernetesTarget(const ActuatorConfig& config,
                                                 const std::string& sa_dir) {
  KubernetesTarget t;
  t.server = config.api_server;
  t.token_file = config.token_file;
  t.ca_file = config.ca_file;
  t.k8s_namespace = config.k8s_namespace;
  if (!config.kubeconfig.empty()) {
    try {
      NOA_RETURN_IF_ERROR(fromKubeconfig(config.kubeconfig, t));
    } catch (const std::exception& e) {
      return Status::InvalidArgument("kubeconfig '" + config.kubeconfig + "': " + e.what());
    }
  } else {
    if (t.server.empty()) {
      const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
      const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
      if (host == nullptr || *host == '\0') {
        return Status::InvalidArgument(
            "kubernetes actuator: no api_server, no kubeconfig and not in a cluster "
            "(KUBERNETES_SERVICE_HOST is unset)");
      }
      const std::string h = host;
      t.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" +
                 (port != nullptr && *port != '\0' ? port : "443");
    }
    if (t.token_file.empty()) t.token_file = sa_dir + "/token";
    if (t.ca_file.empty()) t.ca_file = sa_dir + "/ca.crt";
    if (t.k8s_namespace.empty()) {
      if (auto ns = readFile(sa_dir + "/namespace", "namespace"); ns.ok()) {
        t.k8s_namespace = trim(*ns);
      }
    }
  }
  if (t.k8s_namespace.empty()) t.k8s_namespace = "default";
  t.scale_path = "/apis/apps/v1/namespaces/" + t.k8s_namespace + "/" + config.workload_kind + "/" +
                 config.workload_name + "/scale";
  return t;
}

Result<std::string> KubernetesActuator::call(const std::string& method, const std::string& body) {
  std::string token = target_.token;
  if (!target_.token_file.empty()) {
    NOA_ASSIGN_OR_RETURN(std::string text, readFile(target_.token_file, "token file"));
    token = trim(text);
  }
  httplib::Client client(target_.server);
  if (!client.is_valid()) return Status::InvalidArgument("bad api server '" + target_.server + "'");
  const auto timeout = std::chrono::milliseconds(timeout_ms_);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.enable_server_certificate_verification(true);
  if (!target_.ca_data.empty()) {
    X509_STORE* store = storeFromPem(target_.ca_data);
    if (store == nullptr) return Status::InvalidArgument("certificate-authority-data has no PEM");
    client.set_ca_cert_store(store);  // owned by the client from here
  } else if (!target_.ca_file.empty()) {
    client.set_ca_cert_path(target_.ca_file);
  }
  httplib::Headers headers = {{"Accept", "application/json"}};
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  httplib::Result res = method == "GET" ? client.Get(target_.scale_path, headers)
                                        : client.Patch(target_.scale_path, headers, body,
                                                       "application/merge-patch+json");
  const std::string what = method + " " + target_.scale_path;
  if (!res) {
    std::string why = httplib::to_string(res.error());
    if (const long ssl = client.get_openssl_verify_result(); ssl != 0) {
      why += ": " + std::string(X509_verify_cert_error_string(ssl));
    }
    return Status::Unavailable(what + ": " + why);
  }
  if (res->status < 200 || res->status >= 300) return httpStatus(res->status, res->body, what);
  return res->body;
}

Result<int32_t> KubernetesActuator::currentReplicas(const std::string&) {
  NOA_ASSIGN_OR_RETURN(std::string body, call("GET", ""));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("spec")) {
    return Status::Corruption("GET " + target_.scale_path + ": not a Scale object");
  }
  // An unset spec.replicas means 0 in the Scale subresource (omitempty).
  const auto& replicas = j["spec"].value("replicas", nlohmann::json(0));
  if (!replicas.is_number_integer()) {
    return Status::Corruption("GET " + target_.scale_path + ": spec.replicas is not an integer");
  }
  return replicas.get<int32_t>();
}

Status KubernetesActuator::setReplicas(const std::string&, int32_t replicas) {
  const nlohmann::json patch = {{"spec", {{"replicas", replicas}}}};
  return call("PATCH", patch.dump()).status();
}

}  // namespace noa::controller::autoscale
