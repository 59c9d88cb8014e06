#include "common/protocol/codec.h"

#include <cstring>
#include <initializer_list>
#include <limits>
#include <msgpack.hpp>
#include <type_traits>

#include "common/protocol/wire_reader.h"

namespace noa::protocol {
namespace {

// The packer writes straight into the string encode() returns (an sbuffer would be a second
// buffer and a copy per message).
struct StringSink {
  std::string& out;
  void write(const char* data, size_t size) { out.append(data, size); }
};
using Packer = msgpack::packer<StringSink>;

// ---- encoding: every field, in declaration order, so equal structs give equal bytes ----

void packStr(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

// msgpack-c's pack_double, less its undefined behaviour: an integral double goes out as the
// integer it is (the bytes schemas/vectors pin), anything else as float64. msgpack-c bounds the
// unsigned case by double(UINT64_MAX), which rounds to 2^64, so 2^64 itself reached
// uint64_t(2^64) (found by fuzz_protocol_decode under UBSan); here the bound is strict.
void packDouble(Packer& pk, double d) {
  constexpr double kTwoTo64 = 18446744073709551616.0;
  constexpr double kMinusTwoTo63 = -9223372036854775808.0;
  if (d >= 0 && d < kTwoTo64) {
    const auto u = static_cast<uint64_t>(d);
    if (static_cast<double>(u) == d) {
      pk.pack_uint64(u);
      return;
    }
  } else if (d < 0 && d >= kMinusTwoTo63) {
    const auto i = static_cast<int64_t>(d);
    if (static_cast<double>(i) == d) {
      pk.pack_int64(i);
      return;
    }
  }
  uint64_t bits = 0;
  static_assert(sizeof bits == sizeof d);
  std::memcpy(&bits, &d, sizeof bits);
  char buf[9];
  buf[0] = static_cast<char>(0xcbu);
  for (int i = 0; i < 8; ++i) buf[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
  pk.pack_str_body(buf, sizeof buf);  // appends raw bytes: the packer has no public raw write
}

void packValue(Packer& pk, const Value& value) {
  std::visit(
      [&pk](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          pk.pack_nil();
        } else if constexpr (std::is_same_v<T, std::string>) {
          packStr(pk, v);
        } else if constexpr (std::is_same_v<T, double>) {
          packDouble(pk, v);
        } else {
          pk.pack(v);
        }
      },
      value);
}

void packValueMap(Packer& pk, const ValueMap& map) {
  pk.pack_map(static_cast<uint32_t>(map.size()));
  for (const auto& [k, v] : map) {
    packStr(pk, k);
    packValue(pk, v);
  }
}

void pack(Packer& pk, const Hello& m) {
  pk.pack_map(8);
  packStr(pk, "agent_id"), packStr(pk, m.agent_id);
  packStr(pk, "service"), packStr(pk, m.service);
  packStr(pk, "kind"), packStr(pk, m.kind);
  packStr(pk, "host"), packStr(pk, m.host);
  packStr(pk, "agent_version"), packStr(pk, m.agent_version);
  packStr(pk, "capabilities");
  pk.pack_array(static_cast<uint32_t>(m.capabilities.size()));
  for (const auto& c : m.capabilities) packStr(pk, c);
  packStr(pk, "pid"), pk.pack(m.pid);
  packStr(pk, "report_interval_ms"), pk.pack(m.report_interval_ms);
}

void pack(Packer& pk, const Welcome& m) {
  pk.pack_map(4);
  packStr(pk, "agent_id"), packStr(pk, m.agent_id);
  packStr(pk, "controller_id"), packStr(pk, m.controller_id);
  packStr(pk, "report_interval_ms"), pk.pack(m.report_interval_ms);
  packStr(pk, "server_time_ms"), pk.pack(m.server_time_ms);
}

void pack(Packer& pk, const ProbeState& m) {
  pk.pack_map(7);
  packStr(pk, "name"), packStr(pk, m.name);
  packStr(pk, "kind"), packStr(pk, m.kind);
  packStr(pk, "state"), packStr(pk, m.state);
  packStr(pk, "consecutive_successes"), pk.pack(m.consecutive_successes);
  packStr(pk, "consecutive_failures"), pk.pack(m.consecutive_failures);
  packStr(pk, "latency_us"), pk.pack(m.latency_us);
  packStr(pk, "detail"), packStr(pk, m.detail);
}

void pack(Packer& pk, const Health& m) {
  pk.pack_map(5);
  packStr(pk, "state"), packStr(pk, m.state);
  packStr(pk, "live"), pk.pack(m.live);
  packStr(pk, "ready"), pk.pack(m.ready);
  packStr(pk, "started"), pk.pack(m.started);
  packStr(pk, "probes");
  pk.pack_array(static_cast<uint32_t>(m.probes.size()));
  for (const auto& p : m.probes) pack(pk, p);
}

void pack(Packer& pk, const Report& m) {
  pk.pack_map(5);
  packStr(pk, "seq"), pk.pack(m.seq);
  packStr(pk, "health"), pack(pk, m.health);
  packStr(pk, "role"), packStr(pk, m.role);
  // A map, not an array of pairs: compact, and readable by any MessagePack tool.
  packStr(pk, "metrics");
  pk.pack_map(static_cast<uint32_t>(m.metrics.size()));
  for (const auto& metric : m.metrics) {
    packStr(pk, metric.name);
    packDouble(pk, metric.value);
  }
  packStr(pk, "attributes");
  pk.pack_map(static_cast<uint32_t>(m.attributes.size()));
  for (const auto& [k, v] : m.attributes) packStr(pk, k), packStr(pk, v);
}

// Keys added after v1 was first written go out only when they differ from their default, so an
// older message encodes to the same bytes as before (and an older peer sees nothing new).
uint32_t countSet(std::initializer_list<bool> set) {
  uint32_t n = 0;
  for (bool b : set) n += b ? 1 : 0;
  return n;
}

void pack(Packer& pk, const Ack& m) {
  pk.pack_map(4 + countSet({!m.command_id.empty(), m.lease_ms != 0, m.leader_epoch != 0}));
  packStr(pk, "ref"), packStr(pk, m.ref);
  packStr(pk, "seq"), pk.pack(m.seq);
  packStr(pk, "error"), packStr(pk, m.error);
  packStr(pk, "detail"), packStr(pk, m.detail);
  if (!m.command_id.empty()) packStr(pk, "command_id"), packStr(pk, m.command_id);
  if (m.lease_ms != 0) packStr(pk, "lease_ms"), pk.pack(m.lease_ms);
  if (m.leader_epoch != 0) packStr(pk, "leader_epoch"), pk.pack(m.leader_epoch);
}

void pack(Packer& pk, const Command& m) {
  pk.pack_map(4 + countSet({!m.params_json.empty(), m.cancel}));
  packStr(pk, "command_id"), packStr(pk, m.command_id);
  packStr(pk, "action"), packStr(pk, m.action);
  packStr(pk, "params"), packValueMap(pk, m.params);
  packStr(pk, "deadline_ms"), pk.pack(m.deadline_ms);
  if (!m.params_json.empty()) packStr(pk, "params_json"), packStr(pk, m.params_json);
  if (m.cancel) packStr(pk, "cancel"), pk.pack(true);
}

void pack(Packer& pk, const Progress& m) {
  const bool has_state = m.state != kProgressRunning;
  pk.pack_map(4 + countSet({has_state}));
  packStr(pk, "command_id"), packStr(pk, m.command_id);
  packStr(pk, "phase"), packStr(pk, m.phase);
  packStr(pk, "bytes_done"), pk.pack(m.bytes_done);
  packStr(pk, "bytes_total_estimate"), pk.pack(m.bytes_total_estimate);
  if (has_state) packStr(pk, "state"), packStr(pk, m.state);
}

void pack(Packer& pk, const CommandResult& m) {
  pk.pack_map(6 + countSet({!m.error_code.empty(), !m.output_json.empty()}));
  packStr(pk, "command_id"), packStr(pk, m.command_id);
  packStr(pk, "status"), packStr(pk, m.status);
  packStr(pk, "code"), pk.pack(m.code);
  packStr(pk, "error"), packStr(pk, m.error);
  packStr(pk, "output"), packValueMap(pk, m.output);
  packStr(pk, "duration_ms"), pk.pack(m.duration_ms);
  if (!m.error_code.empty()) packStr(pk, "error_code"), packStr(pk, m.error_code);
  if (!m.output_json.empty()) packStr(pk, "output_json"), packStr(pk, m.output_json);
}

void pack(Packer& pk, const Bye& m) {
  pk.pack_map(1);
  packStr(pk, "reason"), packStr(pk, m.reason);
}

// ---- decoding ----

Status readValue(const msgpack::object& o, const std::string& path, Value& out) {
  switch (o.type) {
    case msgpack::type::NIL:
      out = std::monostate{};
      return Status::Ok();
    case msgpack::type::BOOLEAN:
      out = o.via.boolean;
      return Status::Ok();
    case msgpack::type::POSITIVE_INTEGER:
      if (o.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        // Beyond int64: read as the number it is. msgpack-c's pack_double writes an integral
        // double as an integer, so our own encoder sends a float of 2^63 or more this way, and
        // refusing it broke encode -> decode (found by fuzz_protocol_decode).
        out = static_cast<double>(o.via.u64);
        return Status::Ok();
      }
      out = static_cast<int64_t>(o.via.u64);
      return Status::Ok();
    case msgpack::type::NEGATIVE_INTEGER:
      out = o.via.i64;
      return Status::Ok();
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      out = o.via.f64;
      return Status::Ok();
    case msgpack::type::STR:
      out = std::string(o.via.str.ptr, o.via.str.size);
      return Status::Ok();
    default:
      return Status::InvalidArgument(path + ": expected nil, bool, number or string");
  }
}

Status readValueMap(const msgpack::object& o, const std::string& path, ValueMap& out) {
  if (o.type != msgpack::type::MAP) return Status::InvalidArgument(path + ": expected map");
  for (uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    if (kv.key.type != msgpack::type::STR) {
      return Status::InvalidArgument(path + ": keys must be strings");
    }
    std::string key(kv.key.via.str.ptr, kv.key.via.str.size);
    NOA_RETURN_IF_ERROR(readValue(kv.val, path + "." + key, out[key]));
  }
  return Status::Ok();
}

Status read(const WireMap& r, Hello& m) {
  NOA_RETURN_IF_ERROR(r.str("agent_id", m.agent_id, kRequired));
  NOA_RETURN_IF_ERROR(r.str("service", m.service));
  NOA_RETURN_IF_ERROR(r.str("kind", m.kind));
  NOA_RETURN_IF_ERROR(r.str("host", m.host));
  NOA_RETURN_IF_ERROR(r.str("agent_version", m.agent_version));
  NOA_RETURN_IF_ERROR(
      r.eachArray("capabilities", [&m](const msgpack::object& o, const FieldPath& path) {
        if (o.type != msgpack::type::STR)
          return Status::InvalidArgument(path + ": expected string");
        m.capabilities.emplace_back(o.via.str.ptr, o.via.str.size);
        return Status::Ok();
      }));
  NOA_RETURN_IF_ERROR(r.integer("pid", m.pid));
  return r.integer("report_interval_ms", m.report_interval_ms);
}

Status read(const WireMap& r, Welcome& m) {
  NOA_RETURN_IF_ERROR(r.str("agent_id", m.agent_id, kRequired));
  NOA_RETURN_IF_ERROR(r.str("controller_id", m.controller_id));
  NOA_RETURN_IF_ERROR(r.integer("report_interval_ms", m.report_interval_ms));
  return r.integer("server_time_ms", m.server_time_ms);
}

Status read(const WireMap& r, ProbeState& m) {
  NOA_RETURN_IF_ERROR(r.str("name", m.name, kRequired));
  NOA_RETURN_IF_ERROR(r.str("kind", m.kind));
  NOA_RETURN_IF_ERROR(r.str("state", m.state));
  NOA_RETURN_IF_ERROR(r.integer("consecutive_successes", m.consecutive_successes));
  NOA_RETURN_IF_ERROR(r.integer("consecutive_failures", m.consecutive_failures));
  NOA_RETURN_IF_ERROR(r.integer("latency_us", m.latency_us));
  return r.str("detail", m.detail);
}

Status read(const WireMap& r, Health& m) {
  NOA_RETURN_IF_ERROR(r.str("state", m.state));
  NOA_RETURN_IF_ERROR(r.boolean("live", m.live));
  NOA_RETURN_IF_ERROR(r.boolean("ready", m.ready));
  NOA_RETURN_IF_ERROR(r.boolean("started", m.started));
  if (const msgpack::object* probes = r.find("probes");
      probes != nullptr && probes->type == msgpack::type::ARRAY) {
    m.probes.reserve(probes->via.array.size);
  }
  return r.eachArray("probes", [&m](const msgpack::object& o, const FieldPath& path) {
    NOA_ASSIGN_OR_RETURN(WireMap probe, WireMap::at(o, path));
    return read(probe, m.probes.emplace_back());
  });
}

Status read(const WireMap& r, Report& m) {
  NOA_RETURN_IF_ERROR(r.integer("seq", m.seq, kRequired));
  NOA_RETURN_IF_ERROR(r.nested("health", [&m](const WireMap& h) { return read(h, m.health); }));
  NOA_RETURN_IF_ERROR(r.str("role", m.role));
  if (const msgpack::object* metrics = r.find("metrics");
      metrics != nullptr && metrics->type == msgpack::type::MAP) {
    m.metrics.reserve(metrics->via.map.size);  // entries msgpack has already parsed
  }
  // Into the metrics already there (a recycled vector, see DecodeScratch): assigning a name to
  // a string that held one before reuses its buffer.
  size_t count = 0;
  NOA_RETURN_IF_ERROR(r.eachEntry(
      "metrics",
      [&m, &count](std::string_view key, const msgpack::object& o, const FieldPath& path) {
        double value = 0;
        NOA_RETURN_IF_ERROR(readNumber(o, path, value));
        if (count < m.metrics.size()) {
          m.metrics[count].name.assign(key);
          m.metrics[count].value = value;
        } else {
          m.metrics.push_back({std::string(key), value});
        }
        ++count;
        return Status::Ok();
      }));
  m.metrics.resize(count);
  return r.eachEntry(
      "attributes", [&m](std::string_view key, const msgpack::object& o, const FieldPath& path) {
        if (o.type != msgpack::type::STR)
          return Status::InvalidArgument(path + ": expected string");
        m.attributes.insert_or_assign(std::string(key), std::string(o.via.str.ptr, o.via.str.size));
        return Status::Ok();
      });
}

Status read(const WireMap& r, Ack& m) {
  NOA_RETURN_IF_ERROR(r.str("ref", m.ref));
  NOA_RETURN_IF_ERROR(r.integer("seq", m.seq));
  NOA_RETURN_IF_ERROR(r.str("error", m.error));
  NOA_RETURN_IF_ERROR(r.str("detail", m.detail));
  NOA_RETURN_IF_ERROR(r.str("command_id", m.command_id));
  NOA_RETURN_IF_ERROR(r.integer("lease_ms", m.lease_ms));
  return r.integer("leader_epoch", m.leader_epoch);
}

Status read(const WireMap& r, Command& m) {
  NOA_RETURN_IF_ERROR(r.str("command_id", m.command_id, kRequired));
  NOA_RETURN_IF_ERROR(r.str("action", m.action, kRequired));
  if (const msgpack::object* params = r.find("params")) {
    NOA_RETURN_IF_ERROR(readValueMap(*params, r.path() + ".params", m.params));
  }
  NOA_RETURN_IF_ERROR(r.integer("deadline_ms", m.deadline_ms));
  NOA_RETURN_IF_ERROR(r.str("params_json", m.params_json));
  return r.boolean("cancel", m.cancel);
}

Status read(const WireMap& r, Progress& m) {
  NOA_RETURN_IF_ERROR(r.str("command_id", m.command_id, kRequired));
  NOA_RETURN_IF_ERROR(r.str("phase", m.phase));
  NOA_RETURN_IF_ERROR(r.integer("bytes_done", m.bytes_done));
  NOA_RETURN_IF_ERROR(r.integer("bytes_total_estimate", m.bytes_total_estimate));
  return r.str("state", m.state);
}

Status read(const WireMap& r, CommandResult& m) {
  NOA_RETURN_IF_ERROR(r.str("command_id", m.command_id, kRequired));
  NOA_RETURN_IF_ERROR(r.str("status", m.status, kRequired));
  NOA_RETURN_IF_ERROR(r.integer("code", m.code));
  NOA_RETURN_IF_ERROR(r.str("error", m.error));
  if (const msgpack::object* output = r.find("output")) {
    NOA_RETURN_IF_ERROR(readValueMap(*output, r.path() + ".output", m.output));
  }
  NOA_RETURN_IF_ERROR(r.integer("duration_ms", m.duration_ms));
  NOA_RETURN_IF_ERROR(r.str("error_code", m.error_code));
  return r.str("output_json", m.output_json);
}

Status read(const WireMap& r, Bye& m) { return r.str("reason", m.reason); }

// Builds the Body alternative whose index is `type`, reading it from `body`.
template <size_t I = 0>
Status readBody(MessageType type, const WireMap& body, DecodeScratch* scratch, Body& out) {
  if constexpr (I < std::variant_size_v<Body>) {
    if (static_cast<size_t>(type) == I) {
      std::variant_alternative_t<I, Body> value;
      if constexpr (std::is_same_v<decltype(value), Report>) {
        if (scratch != nullptr) value.metrics = std::move(scratch->metrics);
      }
      NOA_RETURN_IF_ERROR(read(body, value));
      out = std::move(value);
      return Status::Ok();
    }
    return readBody<I + 1>(type, body, scratch, out);
  } else {
    return Status::Internal("message type index out of range");
  }
}

Result<Envelope> decodeObject(const msgpack::object& root, DecodeScratch* scratch) {
  NOA_ASSIGN_OR_RETURN(WireMap env, WireMap::of(root, "envelope"));
  Envelope out;
  // The version comes first: a peer of another major version may use types or fields this side
  // does not know, and the honest answer is "incompatible version", not "malformed".
  NOA_RETURN_IF_ERROR(env.integer("v", out.v, kRequired));
  if (out.v != kProtocolMajor) {
    return Status::FailedPrecondition("incompatible protocol version " + std::to_string(out.v) +
                                      "; this side speaks " + std::to_string(kProtocolMajor));
  }
  std::string type_name;
  NOA_RETURN_IF_ERROR(env.str("type", type_name, kRequired));
  const auto type = parseMessageType(type_name);
  if (!type) return Status::Unimplemented("unknown message type '" + type_name + "'");
  NOA_RETURN_IF_ERROR(env.str("id", out.id));
  NOA_RETURN_IF_ERROR(env.integer("ts", out.ts_ms));
  NOA_RETURN_IF_ERROR(env.str("from", out.from, kRequired));
  const msgpack::object* body = env.find("body");
  if (body == nullptr) return Status::InvalidArgument("envelope.body: required");
  NOA_ASSIGN_OR_RETURN(WireMap body_map, WireMap::of(*body, "body"));
  NOA_RETURN_IF_ERROR(readBody(*type, body_map, scratch, out.body));
  return out;
}

// Strings and binaries point into the caller's buffer instead of being copied by msgpack: the
// object is walked once, before decode() returns.
bool referenceEverything(msgpack::type::object_type, std::size_t, void*) { return true; }

}  // namespace

std::string encode(const Envelope& envelope) {
  std::string bytes;
  bytes.reserve(256);
  StringSink sink{bytes};
  Packer pk(sink);
  pk.pack_map(6);
  packStr(pk, "v"), pk.pack(envelope.v);
  packStr(pk, "type"), packStr(pk, messageTypeName(envelope.type()));
  packStr(pk, "id"), packStr(pk, envelope.id);
  packStr(pk, "ts"), pk.pack(envelope.ts_ms);
  packStr(pk, "from"), packStr(pk, envelope.from);
  packStr(pk, "body");
  std::visit([&pk](const auto& body) { pack(pk, body); }, envelope.body);
  return bytes;
}

Result<Envelope> decode(std::string_view bytes, const DecodeLimits& limits) {
  return decode(bytes, limits, nullptr);
}

Result<Envelope> decode(std::string_view bytes, const DecodeLimits& limits,
                        DecodeScratch* scratch) {
  if (bytes.size() > limits.max_bytes) {
    return Status::ResourceExhausted("message of " + std::to_string(bytes.size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(limits.max_bytes));
  }
  if (bytes.empty()) return Status::InvalidArgument("empty message");
  const msgpack::unpack_limit unpack_limit(limits.max_array_entries, limits.max_map_entries,
                                           limits.max_string_bytes, limits.max_string_bytes,
                                           /*ext=*/0, limits.max_depth);
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle = msgpack::unpack(bytes.data(), bytes.size(), offset,
                                                    referenceEverything, nullptr, unpack_limit);
    if (offset != bytes.size()) {
      return Status::InvalidArgument(std::to_string(bytes.size() - offset) +
                                     " trailing bytes after the message");
    }
    return decodeObject(handle.get(), scratch);
  } catch (const msgpack::size_overflow& e) {
    return Status::ResourceExhausted(std::string("message exceeds a decode limit: ") + e.what());
  } catch (const msgpack::insufficient_bytes&) {
    return Status::InvalidArgument("truncated MessagePack");
  } catch (const msgpack::unpack_error& e) {
    return Status::InvalidArgument(std::string("not MessagePack: ") + e.what());
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("message too large to decode");
  }
}

std::string_view rejectReason(const Status& decode_error) {
  switch (decode_error.code()) {
    case StatusCode::kResourceExhausted:
      return "oversized";
    case StatusCode::kFailedPrecondition:
      return "bad_version";
    case StatusCode::kUnimplemented:
      return "unknown_type";
    case StatusCode::kInvalidArgument:
      return "malformed";
    default:
      return "invalid";
  }
}

}  // namespace noa::protocol
