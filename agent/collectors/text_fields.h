#pragma once

// Small parsers for the whitespace-separated text of /proc and /sys/fs/cgroup files.

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace noa::agent {

inline bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline std::string_view trimBlanks(std::string_view s) {
  while (!s.empty() && isBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && isBlank(s.back())) s.remove_suffix(1);
  return s;
}

// The non-empty runs of non-blank characters, in order.
std::vector<std::string_view> splitBlanks(std::string_view s);

// The whole of `s` as a number, or nothing (empty, trailing characters, out of range).
template <class T>
std::optional<T> parseWhole(std::string_view s) {
  T v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace noa::agent
