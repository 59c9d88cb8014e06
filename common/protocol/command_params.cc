#include "common/protocol/command_params.h"

#include <limits>

namespace noa::protocol {

nlohmann::json valueToJson(const Value& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else {
          return v;
        }
      },
      value);
}

Status setCommandParams(const nlohmann::json& params, Command& command) {
  if (!params.is_object()) return Status::InvalidArgument("params: expected a JSON object");
  command.params.clear();
  nlohmann::json structured = nlohmann::json::object();
  for (const auto& [key, v] : params.items()) {
    if (v.is_null()) {
      command.params[key] = std::monostate{};
    } else if (v.is_boolean()) {
      command.params[key] = v.get<bool>();
    } else if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Status::InvalidArgument("params." + key + ": integer out of range");
      }
      command.params[key] = static_cast<int64_t>(v.get<uint64_t>());
    } else if (v.is_number_integer()) {
      command.params[key] = v.get<int64_t>();
    } else if (v.is_number_float()) {
      command.params[key] = v.get<double>();
    } else if (v.is_string()) {
      command.params[key] = v.get<std::string>();
    } else {
      structured[key] = v;
    }
  }
  command.params_json = structured.empty() ? "" : structured.dump();
  return Status::Ok();
}

Result<nlohmann::json> commandParams(const Command& command) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, v] : command.params) out[key] = valueToJson(v);
  if (command.params_json.empty()) return out;
  nlohmann::json structured = nlohmann::json::parse(command.params_json, nullptr, false);
  if (structured.is_discarded() || !structured.is_object()) {
    return Status::InvalidArgument("params_json: expected the text of a JSON object");
  }
  for (auto& [key, v] : structured.items()) {
    if (out.contains(key)) {
      return Status::InvalidArgument("params: key '" + key + "' is in both params and params_json");
    }
    out[key] = std::move(v);
  }
  return out;
}

nlohmann::json resultOutput(const CommandResult& result) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, v] : result.output) out[key] = valueToJson(v);
  if (result.output_json.empty()) return out;
  nlohmann::json structured = nlohmann::json::parse(result.output_json, nullptr, false);
  if (structured.is_discarded() || !structured.is_object()) {
    out["output_json_unreadable"] = true;
    return out;
  }
  for (auto& [key, v] : structured.items()) {
    if (!out.contains(key)) out[key] = std::move(v);
  }
  return out;
}

}  // namespace noa::protocol
