#pragma once

// noactl's config file and bearer token. The file is YAML with the keys `controller` (URL),
// `token_file` and `ca_file` (paths relative to the file's own directory); it is --config FILE
// (or NOA_CONFIG), else ~/.config/noa/noactl.yaml, else /etc/noa/noactl.yaml when they exist.
//
// The token is never a flag (argv is visible to every user through ps). It comes from
// --token-file (or NOA_TOKEN_FILE), else NOA_TOKEN, else the config file's token_file.

#include <optional>
#include <string>

#include "common/status.h"

namespace noa::cli {

struct CliFileConfig {
  std::string path;  // "" when no file was read
  std::string controller;
  std::string token_file;
  std::string ca_file;
};

// `explicit_path` from --config / NOA_CONFIG: must exist. Otherwise the default locations,
// where a missing file is no error. Unknown keys are an error (a typo would go unnoticed).
Result<CliFileConfig> loadCliConfig(const std::string& explicit_path);

// The token in `path` without surrounding whitespace; InvalidArgument when unreadable or empty.
Result<std::string> readTokenFile(const std::string& path);

}  // namespace noa::cli
