#pragma once

// An agent's CURVE public key as the controller knows it: its enrollment state and the agent id
// it is bound to. Stored in the `keys` family (schemas/store.md, "keys"); the KeyRegistry
// (controller/security/key_registry.h) owns the state machine.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace noa::controller {

// pending -> accepted -> revoked; pending -> rejected. Revoked is final for that key (the agent
// makes a new key pair); rejected can still be accepted (an operator's second thought).
enum class KeyState { kPending, kAccepted, kRejected, kRevoked };

std::string_view keyStateName(KeyState state);
std::optional<KeyState> parseKeyState(std::string_view name);

struct KeyRecord {
  std::string key_id;      // transport::keyIdOf(public_key)
  std::string public_key;  // Z85
  KeyState state = KeyState::kPending;
  std::string agent_id;  // bound, when accepted or revoked
  // What the key's agent said in its hello while it was pending.
  std::string claimed_agent_id;
  std::string claimed_service;
  std::string claimed_host;
  std::string address;  // IP of the latest connection attempt
  std::string source;   // connect | allowlist | auto-accept | api
  std::string changed_by;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  int64_t changed_at_ms = 0;
  uint64_t attempts = 0;  // handshakes seen while pending (or refused)

  bool operator==(const KeyRecord&) const = default;
};

}  // namespace noa::controller
