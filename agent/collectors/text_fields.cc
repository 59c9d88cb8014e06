#include "agent/collectors/text_fields.h"

namespace noa::agent {

std::vector<std::string_view> splitBlanks(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && isBlank(s[i])) ++i;
    const std::size_t from = i;
    while (i < s.size() && !isBlank(s[i])) ++i;
    if (i > from) out.push_back(s.substr(from, i - from));
  }
  return out;
}

}  // namespace noa::agent
