#pragma once

// Scales a Deployment or StatefulSet through the Kubernetes API server's `scale` subresource:
//   GET   /apis/apps/v1/namespaces/NS/{deployments|statefulsets}/NAME/scale   -> spec.replicas
//   PATCH the same path, Content-Type application/merge-patch+json, {"spec":{"replicas":N}}
// with `Authorization: Bearer TOKEN`, over HTTPS verified against the cluster CA.
//
// Credentials, in this order: the policy's api_server / token_file / ca_file; a kubeconfig
// (`kubeconfig:`: current-context's cluster server, certificate-authority or
// certificate-authority-data, the user's token or tokenFile; client certificates are not
// supported); else in-cluster (KUBERNETES_SERVICE_HOST/PORT, the service-account token and CA
// under /var/run/secrets/kubernetes.io/serviceaccount). The token file is re-read on every
// call, because projected service-account tokens rotate.
//
// Errors: 409 (a concurrent update) and 5xx are Unavailable (retried by the coordinator with
// back-off); 401/403 PermissionDenied; 404 NotFound; a connection failure Unavailable.

#include <string>

#include "controller/autoscale/actuators/actuator.h"

namespace noa::controller::autoscale {

inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

struct KubernetesTarget {
  std::string server;  // "https://host:port"
  std::string token;   // literal token (kubeconfig `token`), or
  std::string token_file;
  std::string ca_file;
  std::string ca_data;  // PEM (decoded certificate-authority-data)
  std::string k8s_namespace;
  std::string scale_path;  // /apis/apps/v1/namespaces/NS/KIND/NAME/scale
};

// Resolves where and how to connect. `sa_dir` is the service-account directory (a parameter
// so tests need not write under /var/run).
Result<KubernetesTarget> resolveKubernetesTarget(const ActuatorConfig& config,
                                                 const std::string& sa_dir = kServiceAccountDir);

class KubernetesActuator final : public Actuator {
 public:
  KubernetesActuator(KubernetesTarget target, int64_t timeout_ms)
      : target_(std::move(target)), timeout_ms_(timeout_ms) {}
  ActuatorType type() const override { return ActuatorType::kKubernetes; }
  Result<int32_t> currentReplicas(const std::string& service) override;
  Status setReplicas(const std::string& service, int32_t replicas) override;

 private:
  Result<std::string> call(const std::string& method, const std::string& body);

  KubernetesTarget target_;
  int64_t timeout_ms_;
};

}  // namespace noa::controller::autoscale
