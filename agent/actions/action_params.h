#pragma once

// Strict reading of an action's JSON params: the command channel passes whatever the controller
// sent, so an unknown key (a typo like "backupdir") or a wrong type is refused with a message
// naming the key, before anything runs.

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace noa::agent::actions {

class ParamReader {
 public:
  // Fails when `params` is not an object or has a key outside `known`.
  static Result<ParamReader> open(const nlohmann::json& params, std::string_view action,
                                  std::initializer_list<std::string_view> known);

  // Each reader leaves `out` unchanged when the key is absent (so it keeps its default) and
  // fails on a wrong type or a value out of range. `required` makes absence an error.
  Status str(std::string_view key, std::string& out, bool required = false) const;
  Status integer(std::string_view key, int64_t& out, int64_t min, int64_t max,
                 bool required = false) const;
  Status boolean(std::string_view key, bool& out) const;
  Status strList(std::string_view key, std::vector<std::string>& out) const;

 private:
  ParamReader(const nlohmann::json& params, std::string action)
      : params_(&params), action_(std::move(action)) {}
  const nlohmann::json* find(std::string_view key) const;
  Status typeError(std::string_view key, std::string_view expected) const;

  const nlohmann::json* params_;
  std::string action_;
};

// True for a single path component that is safe to join to a directory: not empty, not "." or
// "..", no '/', no NUL.
bool isPlainFileName(std::string_view name);

}  // namespace noa::agent::actions
