// The KeyRecord encoding of the `keys` family (schemas/store.md, "keys"): a MessagePack map with
// string keys, unknown keys ignored, so fields can be added without a schema version bump.

#include <msgpack.hpp>

#include "common/protocol/wire_reader.h"
#include "controller/store/store.h"

namespace noa::controller {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;
using protocol::kRequired;
using protocol::WireMap;

constexpr uint32_t kKeyRecordVersion = 1;

void packStr(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

Status readKey(const WireMap& r, KeyRecord& out) {
  uint32_t rv = 0;
  NOA_RETURN_IF_ERROR(r.integer("rv", rv, kRequired));
  if (rv < 1) return Status::InvalidArgument(r.path() + ".rv: unsupported record version 0");
  NOA_RETURN_IF_ERROR(r.str("key_id", out.key_id, kRequired));
  NOA_RETURN_IF_ERROR(r.str("public_key", out.public_key, kRequired));
  std::string state;
  NOA_RETURN_IF_ERROR(r.str("state", state, kRequired));
  auto parsed = parseKeyState(state);
  if (!parsed) return Status::InvalidArgument(r.path() + ".state: unknown value '" + state + "'");
  out.state = *parsed;
  NOA_RETURN_IF_ERROR(r.str("agent_id", out.agent_id));
  NOA_RETURN_IF_ERROR(r.str("claimed_agent_id", out.claimed_agent_id));
  NOA_RETURN_IF_ERROR(r.str("claimed_service", out.claimed_service));
  NOA_RETURN_IF_ERROR(r.str("claimed_host", out.claimed_host));
  NOA_RETURN_IF_ERROR(r.str("address", out.address));
  NOA_RETURN_IF_ERROR(r.str("source", out.source));
  NOA_RETURN_IF_ERROR(r.str("changed_by", out.changed_by));
  NOA_RETURN_IF_ERROR(r.integer("first_seen_ms", out.first_seen_ms));
  NOA_RETURN_IF_ERROR(r.integer("last_seen_ms", out.last_seen_ms));
  NOA_RETURN_IF_ERROR(r.integer("changed_at_ms", out.changed_at_ms));
  return r.integer("attempts", out.attempts);
}

}  // namespace

std::string_view keyStateName(KeyState state) {
  switch (state) {
    case KeyState::kPending:
      return "pending";
    case KeyState::kAccepted:
      return "accepted";
    case KeyState::kRejected:
      return "rejected";
    case KeyState::kRevoked:
      return "revoked";
  }
  return "unknown";
}

std::optional<KeyState> parseKeyState(std::string_view name) {
  for (KeyState s :
       {KeyState::kPending, KeyState::kAccepted, KeyState::kRejected, KeyState::kRevoked}) {
    if (keyStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string encodeKeyRecord(const KeyRecord& record) {
  msgpack::sbuffer buffer(256);
  Packer pk(buffer);
  pk.pack_map(15);
  packStr(pk, "rv"), pk.pack(kKeyRecordVersion);
  packStr(pk, "key_id"), packStr(pk, record.key_id);
  packStr(pk, "public_key"), packStr(pk, record.public_key);
  packStr(pk, "state"), packStr(pk, keyStateName(record.state));
  packStr(pk, "agent_id"), packStr(pk, record.agent_id);
  packStr(pk, "claimed_agent_id"), packStr(pk, record.claimed_agent_id);
  packStr(pk, "claimed_service"), packStr(pk, record.claimed_service);
  packStr(pk, "claimed_host"), packStr(pk, record.claimed_host);
  packStr(pk, "address"), packStr(pk, record.address);
  packStr(pk, "source"), packStr(pk, record.source);
  packStr(pk, "changed_by"), packStr(pk, record.changed_by);
  packStr(pk, "first_seen_ms"), pk.pack(record.first_seen_ms);
  packStr(pk, "last_seen_ms"), pk.pack(record.last_seen_ms);
  packStr(pk, "changed_at_ms"), pk.pack(record.changed_at_ms);
  packStr(pk, "attempts"), pk.pack(record.attempts);
  return std::string(buffer.data(), buffer.size());
}

Result<KeyRecord> decodeKeyRecord(std::string_view bytes) {
  if (bytes.empty()) return Status::Corruption("key record: empty value");
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
    if (offset != bytes.size()) {
      return Status::Corruption("key record: " + std::to_string(bytes.size() - offset) +
                                " trailing bytes");
    }
    auto map = WireMap::of(handle.get(), "key");
    if (!map.ok()) return Status::Corruption("key record: " + map.status().message());
    KeyRecord out;
    Status read = readKey(*map, out);
    if (!read.ok()) return Status::Corruption("key record: " + read.message());
    return out;
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("key record: not readable MessagePack: ") + e.what());
  }
}

}  // namespace noa::controller
