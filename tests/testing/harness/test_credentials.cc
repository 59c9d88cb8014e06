#include "tests/testing/harness/test_credentials.h"

#include <filesystem>

namespace noa::testing {

Result<TestCredentials> TestCredentials::create(const std::string& dir) {
  TestCredentials creds;
  creds.dir_ = dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::Unavailable("cannot create " + dir + ": " + ec.message());
  NOA_RETURN_IF_ERROR(creds.createRest());
  NOA_RETURN_IF_ERROR(creds.createCurve());
  return creds;
}

std::vector<std::string> TestCredentials::controllerArgs() const {
  std::vector<std::string> args = restControllerArgs();
  for (auto& a : curveControllerArgs()) args.push_back(std::move(a));
  return args;
}

const std::string& TestCredentials::token(const std::string& role) const {
  if (role == "viewer") return viewer_token_;
  if (role == "operator") return operator_token_;
  return admin_token_;
}

}  // namespace noa::testing
