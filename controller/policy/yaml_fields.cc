#include "controller/policy/yaml_fields.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "common/duration.h"

namespace noa::controller::policy {

std::string lineOf(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return "";
  return " (line " + std::to_string(mark.line + 1) + ")";
}

Status invalid(const YAML::Node& node, const std::string& path, const std::string& why) {
  return Status::InvalidArgument(path + ": " + why + lineOf(node));
}

bool isName(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

Result<std::map<std::string, YAML::Node>> mapEntries(
    const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> known,
    std::initializer_list<std::string_view> ignored) {
  std::map<std::string, YAML::Node> out;
  if (node.IsNull()) return out;
  if (!node.IsMap()) return invalid(node, path, "expected a map");
  std::map<std::string, bool> seen;
  for (const auto& item : node) {
    if (!item.first.IsScalar()) return invalid(item.first, path, "keys must be strings");
    const std::string key = item.first.Scalar();
    if (seen[key]) return invalid(item.first, path, "duplicate key '" + key + "'");
    seen[key] = true;
    if (std::find(ignored.begin(), ignored.end(), key) != ignored.end()) continue;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      for (std::string_view k : ignored) list += ", " + std::string(k);
      return invalid(item.first, path, "unknown key '" + key + "' (known: " + list + ")");
    }
    out[key] = item.second;
  }
  return out;
}

Result<std::string> scalar(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) return invalid(node, path, "expected a string");
  return node.Scalar();
}

Result<int64_t> positiveDuration(const YAML::Node& node, const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  auto parsed = parseDuration(text);
  if (!parsed.ok()) return invalid(node, path, parsed.status().message());
  if (parsed->count() <= 0) return invalid(node, path, "must be greater than 0");
  return parsed->count();
}

Result<bool> boolean(const YAML::Node& node, const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  if (text == "true") return true;
  if (text == "false") return false;
  return invalid(node, path, "expected true or false");
}

Result<int64_t> integer(const YAML::Node& node, const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return invalid(node, path, "expected a non-negative integer");
  }
  return std::stoll(text);
}

Result<int64_t> byteSize(const YAML::Node& node, const std::string& path) {
  NOA_ASSIGN_OR_RETURN(std::string text, scalar(node, path));
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  const std::string unit = text.substr(digits);
  int64_t scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "kB" || unit == "KB" || unit == "KiB") scale = 1024;
  else if (unit == "MB" || unit == "MiB") scale = 1024 * 1024;
  else if (unit == "GB" || unit == "GiB") scale = 1024LL * 1024 * 1024;
  if (digits == 0 || digits > 15 || scale == 0) {
    return invalid(node, path, "expected a size such as 1048576, 16MB or 1GB");
  }
  return std::stoll(text.substr(0, digits)) * scale;
}

Result<YAML::Node> parseYamlDocument(std::string_view text) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return Status::InvalidArgument(e.msg);
    return Status::InvalidArgument("line " + std::to_string(e.mark.line + 1) + ", column " +
                                   std::to_string(e.mark.column + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("policy: ") + e.what());
  }
}

Result<std::string> readPolicyText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError("policy file '" + path + "': cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IoError("policy file '" + path + "': read failed");
  return text.str();
}

}  // namespace noa::controller::policy
