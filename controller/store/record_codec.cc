// The AgentRecord encoding of the `agents` family (schemas/store.md, "agents").
//
// hello and last_report are stored as complete protocol envelopes inside `bin` fields, so the
// protocol's compatibility rules (unknown keys ignored, missing optional keys defaulted) apply to
// stored data too and a record written by a newer minor version still reads.

#include <msgpack.hpp>

#include "common/protocol/codec.h"
#include "common/protocol/wire_reader.h"
#include "controller/store/store.h"

namespace noa::controller {
namespace {

using Packer = msgpack::packer<msgpack::sbuffer>;
using protocol::kRequired;
using protocol::WireMap;

constexpr uint32_t kRecordVersion = 1;

// The envelopes were validated when they arrived; the wider byte limit only keeps a record the
// controller itself assembled from being refused on read.
const protocol::DecodeLimits kStoredEnvelopeLimits{.max_bytes = 1024 * 1024};

void packStr(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void packBin(Packer& pk, std::string_view s) {
  pk.pack_bin(static_cast<uint32_t>(s.size()));
  pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::string envelopeBytes(const std::string& agent_id, int64_t ts_ms, protocol::Body body) {
  protocol::Envelope env;
  env.ts_ms = ts_ms;
  env.from = agent_id;
  env.body = std::move(body);
  return protocol::encode(env);
}

Status corrupt(const Status& cause) {
  return Status::Corruption("agent record: " + cause.message());
}

// Decodes the envelope stored under `key` and returns its body of type T.
template <class T>
Status readEnvelope(const WireMap& map, std::string_view key, bool required, T& out,
                    int64_t* ts_ms = nullptr, bool* present = nullptr) {
  std::string bytes;
  NOA_RETURN_IF_ERROR(map.bin(key, bytes, required));
  if (map.find(key) == nullptr) return Status::Ok();
  auto env = protocol::decode(bytes, kStoredEnvelopeLimits);
  if (!env.ok()) {
    return Status::InvalidArgument(map.path() + "." + std::string(key) + ": " +
                                   env.status().message());
  }
  const T* body = std::get_if<T>(&env->body);
  if (body == nullptr) {
    return Status::InvalidArgument(map.path() + "." + std::string(key) + ": unexpected " +
                                   std::string(protocol::messageTypeName(env->type())) +
                                   " envelope");
  }
  out = *body;
  if (ts_ms != nullptr) *ts_ms = env->ts_ms;
  if (present != nullptr) *present = true;
  return Status::Ok();
}

Status readRecord(const WireMap& r, AgentRecord& out) {
  uint32_t rv = 0;
  NOA_RETURN_IF_ERROR(r.integer("rv", rv, kRequired));
  // A higher rv only adds optional keys (a breaking change bumps the schema version instead).
  if (rv < 1) return Status::InvalidArgument(r.path() + ".rv: unsupported record version 0");
  NOA_RETURN_IF_ERROR(readEnvelope(r, "hello", kRequired, out.hello));
  std::string liveness;
  NOA_RETURN_IF_ERROR(r.str("liveness", liveness));
  if (r.find("liveness") != nullptr) {
    auto parsed = parseLiveness(liveness);
    if (!parsed) {
      return Status::InvalidArgument(r.path() + ".liveness: unknown value '" + liveness + "'");
    }
    out.liveness = *parsed;
  }
  NOA_RETURN_IF_ERROR(r.integer("registered_at_ms", out.registered_at_ms));
  NOA_RETURN_IF_ERROR(r.integer("session_started_ms", out.session_started_ms));
  NOA_RETURN_IF_ERROR(r.integer("last_seen_ms", out.last_seen_ms));
  NOA_RETURN_IF_ERROR(r.integer("liveness_changed_ms", out.liveness_changed_ms));
  NOA_RETURN_IF_ERROR(r.integer("last_seq", out.last_seq));
  return readEnvelope(r, "last_report", false, out.last_report, &out.last_report_ts_ms,
                      &out.has_report);
}

}  // namespace

std::string encodeAgentRecord(const AgentRecord& record) {
  const std::string& id = record.hello.agent_id;
  msgpack::sbuffer buffer(512);
  Packer pk(buffer);
  pk.pack_map(record.has_report ? 9 : 8);
  packStr(pk, "rv"), pk.pack(kRecordVersion);
  packStr(pk, "hello"), packBin(pk, envelopeBytes(id, record.session_started_ms, record.hello));
  packStr(pk, "liveness"), packStr(pk, livenessName(record.liveness));
  packStr(pk, "registered_at_ms"), pk.pack(record.registered_at_ms);
  packStr(pk, "session_started_ms"), pk.pack(record.session_started_ms);
  packStr(pk, "last_seen_ms"), pk.pack(record.last_seen_ms);
  packStr(pk, "liveness_changed_ms"), pk.pack(record.liveness_changed_ms);
  packStr(pk, "last_seq"), pk.pack(record.last_seq);
  if (record.has_report) {
    // The envelope's ts carries last_report_ts_ms: the agent's own time of that report.
    packStr(pk, "last_report");
    packBin(pk, envelopeBytes(id, record.last_report_ts_ms, record.last_report));
  }
  return std::string(buffer.data(), buffer.size());
}

Result<AgentRecord> decodeAgentRecord(std::string_view bytes) {
  if (bytes.empty()) return Status::Corruption("agent record: empty value");
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset);
    if (offset != bytes.size()) {
      return Status::Corruption("agent record: " + std::to_string(bytes.size() - offset) +
                                " trailing bytes");
    }
    auto map = WireMap::of(handle.get(), "record");
    if (!map.ok()) return corrupt(map.status());
    AgentRecord out;
    Status read = readRecord(*map, out);
    if (!read.ok()) return corrupt(read);
    return out;
  } catch (const msgpack::insufficient_bytes&) {
    return Status::Corruption("agent record: truncated MessagePack");
  } catch (const msgpack::unpack_error& e) {
    return Status::Corruption(std::string("agent record: not MessagePack: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::Corruption("agent record: too large to decode");
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("agent record: ") + e.what());
  }
}

}  // namespace noa::controller
