#include "agent/actions/action_params.h"

namespace noa::agent::actions {

Result<ParamReader> ParamReader::open(const nlohmann::json& params, std::string_view action,
                                      std::initializer_list<std::string_view> known) {
  if (!params.is_object()) {
    return Status::InvalidArgument(std::string(action) + ": params must be a JSON object, got " +
                                   params.type_name());
  }
  for (const auto& [key, value] : params.items()) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == key;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return Status::InvalidArgument(std::string(action) + ": unknown param '" + key +
                                     "' (known: " + list + ")");
    }
  }
  return ParamReader(params, std::string(action));
}

const nlohmann::json* ParamReader::find(std::string_view key) const {
  auto it = params_->find(std::string(key));
  if (it == params_->end() || it->is_null()) return nullptr;
  return &*it;
}

Status ParamReader::typeError(std::string_view key, std::string_view expected) const {
  return Status::InvalidArgument(action_ + ": param '" + std::string(key) + "' must be " +
                                 std::string(expected) + ", got " +
                                 params_->at(std::string(key)).type_name());
}

Status ParamReader::str(std::string_view key, std::string& out, bool required) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) {
    if (required) {
      return Status::InvalidArgument(action_ + ": param '" + std::string(key) + "' is required");
    }
    return Status::Ok();
  }
  if (!v->is_string()) return typeError(key, "a string");
  out = v->get<std::string>();
  if (required && out.empty()) {
    return Status::InvalidArgument(action_ + ": param '" + std::string(key) + "' is empty");
  }
  return Status::Ok();
}

Status ParamReader::integer(std::string_view key, int64_t& out, int64_t min, int64_t max,
                            bool required) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) {
    if (required) {
      return Status::InvalidArgument(action_ + ": param '" + std::string(key) + "' is required");
    }
    return Status::Ok();
  }
  if (!v->is_number_integer()) return typeError(key, "an integer");
  int64_t value =
      v->is_number_unsigned() && v->get<uint64_t>() > INT64_MAX ? INT64_MAX : v->get<int64_t>();
  if (value < min || value > max) {
    return Status::InvalidArgument(action_ + ": param '" + std::string(key) +
                                   "' = " + std::to_string(value) + " is outside " +
                                   std::to_string(min) + ".." + std::to_string(max));
  }
  out = value;
  return Status::Ok();
}

Status ParamReader::boolean(std::string_view key, bool& out) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) return typeError(key, "a boolean");
  out = v->get<bool>();
  return Status::Ok();
}

Status ParamReader::strList(std::string_view key, std::vector<std::string>& out) const {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_array()) return typeError(key, "an array of strings");
  std::vector<std::string> values;
  for (const auto& item : *v) {
    if (!item.is_string()) return typeError(key, "an array of strings");
    values.push_back(item.get<std::string>());
  }
  out = std::move(values);
  return Status::Ok();
}

bool isPlainFileName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

}  // namespace noa::agent::actions
