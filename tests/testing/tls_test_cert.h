#pragma once

// A self-signed certificate for 127.0.0.1, made with the openssl command line, for tests that
// run a local HTTPS server (the Kubernetes API test doubles). Header-only; needs noa_process.

#include <chrono>
#include <string>

#include "common/process/process.h"
#include "common/status.h"

namespace noa::testing {

// Writes `cert_path` and `key_path` (RSA 2048, one day, SAN IP:127.0.0.1).
inline Status makeSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  ProcessSpec spec;
  spec.argv = {"openssl",  "req",           "-x509",   "-newkey",
               "rsa:2048", "-nodes",        "-keyout", key_path,
               "-out",     cert_path,       "-days",   "1",
               "-subj",    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"};
  spec.timeout = std::chrono::seconds(60);
  auto made = runProcess(spec);
  if (!made.ok()) return made.status();
  if (made->exit_code != 0) return Status::Internal("openssl req failed");
  return Status::Ok();
}

}  // namespace noa::testing
