#include "common/protocol/messages.h"

#include <array>

namespace noa::protocol {
namespace {
// Index order matches the Body variant and MessageType.
constexpr std::array<std::string_view, 8> kTypeNames = {
    "hello", "welcome", "report", "ack", "command", "progress", "result", "bye"};
}  // namespace

std::string_view messageTypeName(MessageType type) {
  return kTypeNames[static_cast<size_t>(type)];
}

std::optional<MessageType> parseMessageType(std::string_view name) {
  for (size_t i = 0; i < kTypeNames.size(); ++i) {
    if (kTypeNames[i] == name) return static_cast<MessageType>(i);
  }
  return std::nullopt;
}

}  // namespace noa::protocol
