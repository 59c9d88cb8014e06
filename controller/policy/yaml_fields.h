#pragma once

// Reading the controller's YAML policy file the same way in every module (backups, failover,
// autoscale): errors name the YAML path and line, unknown and duplicate keys are refused, and
// yaml-cpp's exceptions never leave parseYamlDocument.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "common/status.h"

namespace noa::controller::policy {

// " (line N)" for a node read from text, "" otherwise.
std::string lineOf(const YAML::Node& node);
// InvalidArgument "<path>: <why> (line N)".
Status invalid(const YAML::Node& node, const std::string& path, const std::string& why);

// The entries of a YAML map, refusing duplicate and unknown keys. `ignored` keys are accepted
// and left out of the result. A null node is an empty map.
Result<std::map<std::string, YAML::Node>> mapEntries(
    const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> known,
    std::initializer_list<std::string_view> ignored = {});

Result<std::string> scalar(const YAML::Node& node, const std::string& path);
// "2s", "500ms", ... (common/duration.h) in milliseconds, > 0.
Result<int64_t> positiveDuration(const YAML::Node& node, const std::string& path);
Result<bool> boolean(const YAML::Node& node, const std::string& path);
// A non-negative integer, optionally with a size suffix (kB, MB, GB; powers of 1024).
Result<int64_t> byteSize(const YAML::Node& node, const std::string& path);
Result<int64_t> integer(const YAML::Node& node, const std::string& path);

// [A-Za-z0-9._-]{1,64}: service, member and policy names.
bool isName(std::string_view text);

// Parses `text`, turning yaml-cpp's exceptions into InvalidArgument "line L, column C: ...".
Result<YAML::Node> parseYamlDocument(std::string_view text);
// The file's text; IoError naming it.
Result<std::string> readPolicyText(const std::string& path);

}  // namespace noa::controller::policy
