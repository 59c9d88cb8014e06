// Agent-channel half of TestCredentials: the controller's CURVE key pair and an allowlist file
// that agentArgs() appends each agent's public key to (the controller re-reads it when it
// changes, so agents may be enrolled while it runs).
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "common/transport/curve_keys.h"
#include "tests/testing/harness/test_credentials.h"

namespace noa::testing {
namespace {

std::string keyDir(const std::string& dir) { return dir + "/controller-keys"; }
std::string allowlistFile(const std::string& dir) { return dir + "/allowlist"; }

}  // namespace

Status TestCredentials::createCurve() {
  NOA_RETURN_IF_ERROR(transport::loadOrCreateKeyPair(keyDir(dir_), "controller").status());
  std::ofstream out(allowlistFile(dir_), std::ios::app);
  if (!out) return Status::IoError("cannot write " + allowlistFile(dir_));
  return Status::Ok();
}

std::vector<std::string> TestCredentials::curveControllerArgs() const {
  return {"--key-dir", keyDir(dir_), "--allowlist-file", allowlistFile(dir_)};
}

Result<std::vector<std::string>> TestCredentials::agentArgs(const std::string& agent_id) const {
  const std::string state_dir = dir_ + "/agents/" + agent_id;
  NOA_ASSIGN_OR_RETURN(transport::CurveKeyPair pair,
                       transport::loadOrCreateKeyPair(state_dir, "agent"));
  const std::string line = agent_id + " " + pair.public_key + "\n";
  std::ifstream in(allowlistFile(dir_));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find(line) == std::string::npos) {
    // One append(2), so a controller re-reading the file never sees half a line.
    const int fd = ::open(allowlistFile(dir_).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return Status::IoError("cannot append to " + allowlistFile(dir_));
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!written) return Status::IoError("cannot append to " + allowlistFile(dir_));
  }
  return std::vector<std::string>{"--state-dir", state_dir, "--controller-public-key-file",
                                  keyDir(dir_) + "/controller.pub"};
}

}  // namespace noa::testing
