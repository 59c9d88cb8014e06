#pragma once

// What a test needs to run noa-controller, noa-agent and noactl with security on, as it is by
// default: REST bearer tokens per role, the controller's CURVE key pair and enrolled agent keys.
// Tests append these arguments to their command lines instead of switching security off.
//
// The REST half lives in test_credentials_rest.cc, the agent-channel half in
// test_credentials_curve.cc.

#include <string>
#include <vector>

#include "common/status.h"

namespace noa::testing {

class TestCredentials {
 public:
  // Writes the tokens file, the controller's key pair and an (empty) allowlist under `dir`.
  static Result<TestCredentials> create(const std::string& dir);

  // Extra arguments for noa-controller.
  std::vector<std::string> controllerArgs() const;
  // Extra arguments for noa-agent `agent_id`: creates the agent's key pair in its own state
  // directory under dir() and enrolls it (appends it to the controller's allowlist), so the
  // agent is admitted even when the controller is already running.
  Result<std::vector<std::string>> agentArgs(const std::string& agent_id) const;
  // Extra arguments for noactl acting with `role`: "viewer", "operator" or "admin".
  std::vector<std::string> noactlArgs(const std::string& role = "admin") const;
  // The bearer token of `role` (for raw HTTP requests).
  const std::string& token(const std::string& role = "admin") const;

  const std::string& dir() const { return dir_; }

 private:
  Status createRest();   // test_credentials_rest.cc
  Status createCurve();  // test_credentials_curve.cc
  std::vector<std::string> restControllerArgs() const;
  std::vector<std::string> curveControllerArgs() const;

  std::string dir_;
  std::string viewer_token_;
  std::string operator_token_;
  std::string admin_token_;
};

}  // namespace noa::testing
