#include "controller/cli/cli_config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace noa::cli {
namespace {

std::string resolve(const std::string& value, const std::string& config_path) {
  if (value.empty() || value.front() == '/') return value;
  return (std::filesystem::path(config_path).parent_path() / value).string();
}

Result<CliFileConfig> parseFile(const std::string& path) {
  CliFileConfig config;
  config.path = path;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) return config;
    if (!root.IsMap()) return Status::InvalidArgument("config file '" + path + "' is not a map");
    for (const auto& item : root) {
      const std::string key = item.first.as<std::string>();
      const std::string value = item.second.as<std::string>();
      if (key == "controller") {
        config.controller = value;
      } else if (key == "token_file") {
        config.token_file = resolve(value, path);
      } else if (key == "ca_file") {
        config.ca_file = resolve(value, path);
      } else {
        return Status::InvalidArgument("config file '" + path + "': unknown key '" + key +
                                       "' (known: controller, token_file, ca_file)");
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file '" + path + "': " + e.what());
  }
  return config;
}

}  // namespace

Result<CliFileConfig> loadCliConfig(const std::string& explicit_path) {
  if (!explicit_path.empty()) {
    if (!std::filesystem::exists(explicit_path)) {
      return Status::InvalidArgument("config file '" + explicit_path + "' does not exist");
    }
    return parseFile(explicit_path);
  }
  std::vector<std::string> candidates;
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    candidates.push_back(std::string(home) + "/.config/noa/noactl.yaml");
  }
  candidates.push_back("/etc/noa/noactl.yaml");
  for (const std::string& path : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return parseFile(path);
  }
  return CliFileConfig{};
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read token file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const size_t begin = token.find_first_not_of(" \t\r\n");
  const size_t end = token.find_last_not_of(" \t\r\n");
  if (begin == std::string::npos) {
    return Status::InvalidArgument("token file '" + path + "' is empty");
  }
  token = token.substr(begin, end - begin + 1);
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    return Status::InvalidArgument("token file '" + path + "' must hold one token");
  }
  return token;
}

}  // namespace noa::cli
