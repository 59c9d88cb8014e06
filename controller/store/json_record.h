#pragma once

// Records the controller keeps as JSON (also their REST representation) and stores as
// MessagePack with a record version `rv`: commands, backup catalog entries. One reader and one
// codec, so every record family refuses damage the same way.
//
// JsonFields reads a JSON object in the store's style: a missing (or null) optional key keeps
// its default, a present key of the wrong type is an InvalidArgument naming "path.key".

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/status.h"

namespace noa::controller {

class JsonFields {
 public:
  JsonFields(const nlohmann::json& j, std::string path) : j_(j), path_(std::move(path)) {}

  Status str(const char* key, std::string& out, bool required = false) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return missing(key, required);
    if (!v->is_string()) return wrong(key, "string");
    out = v->get<std::string>();
    return Status::Ok();
  }
  template <class Int>
  Status integer(const char* key, Int& out, bool required = false) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return missing(key, required);
    if (!v->is_number_integer()) return wrong(key, "integer");
    if constexpr (std::is_unsigned_v<Int>) {
      if (!v->is_number_unsigned() && v->template get<int64_t>() < 0) {
        return wrong(key, "non-negative integer");
      }
    }
    out = v->template get<Int>();
    return Status::Ok();
  }
  Status boolean(const char* key, bool& out, bool required = false) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return missing(key, required);
    if (!v->is_boolean()) return wrong(key, "boolean");
    out = v->get<bool>();
    return Status::Ok();
  }
  // A name parsed by `parse` (returning std::optional<E>); `what` names it in errors.
  template <class E, class Parse>
  Status name(const char* key, E& out, Parse parse, const char* what, bool required) const {
    std::string text;
    NOA_RETURN_IF_ERROR(str(key, text, required));
    if (text.empty() && !required) return Status::Ok();
    auto parsed = parse(text);
    if (!parsed) return invalid(key, std::string("unknown ") + what + " '" + text + "'");
    out = *parsed;
    return Status::Ok();
  }
  // Calls read(JsonFields(item, "path.key[i]")) for every element (each must be an object).
  template <class Read>
  Status array(const char* key, Read read) const {
    const nlohmann::json* v = find(key);
    if (v == nullptr) return Status::Ok();
    if (!v->is_array()) return wrong(key, "array");
    for (size_t i = 0; i < v->size(); ++i) {
      const std::string item_path = path_ + "." + key + "[" + std::to_string(i) + "]";
      if (!(*v)[i].is_object()) return Status::InvalidArgument(item_path + ": expected an object");
      NOA_RETURN_IF_ERROR(read(JsonFields((*v)[i], item_path)));
    }
    return Status::Ok();
  }
  // The object at `key` (nullptr when absent); `error` is set when it is not an object.
  const nlohmann::json* object(const char* key, Status& error) const {
    const nlohmann::json* v = find(key);
    if (v != nullptr && !v->is_object()) {
      error = wrong(key, "object");
      return nullptr;
    }
    return v;
  }

  const nlohmann::json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  Status missing(const char* key, bool required) const {
    return required ? invalid(key, "required") : Status::Ok();
  }
  Status wrong(const char* key, const char* expected) const {
    return invalid(key, std::string("expected ") + expected);
  }
  Status invalid(const char* key, const std::string& why) const {
    return Status::InvalidArgument(path_ + "." + key + ": " + why);
  }
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json& j_;
  std::string path_;
};

// MessagePack of `record` (an object) with "rv" = version.
std::string encodeJsonRecord(nlohmann::json record, int version);

// The object stored by encodeJsonRecord. Corruption "<what>: ..." when the bytes are not
// MessagePack, not a map, lack "rv", or carry a version newer than `max_version`.
Result<nlohmann::json> decodeJsonRecord(std::string_view bytes, std::string_view what,
                                        int max_version);

}  // namespace noa::controller
