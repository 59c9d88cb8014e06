#pragma once

// Typed, zero-copy reading of a decoded MessagePack map: the protocol's compatibility rules
// (unknown keys ignored, missing optional keys keep their defaults, a present key of the wrong
// type is an error) in one place. Errors name the field path, e.g. "body.health.probes[2].state:
// expected string". Internal to the codec and the store's record encoding.

#include <msgpack.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/status.h"

namespace noa::protocol {

inline constexpr bool kRequired = true;

// Where a map entry is, for error messages: built only when one is needed, since a report's
// dozens of metrics would otherwise cost an allocation each on every decode.
class EntryPath {
 public:
  EntryPath(const std::string& map_path, std::string_view key) : map_path_(map_path), key_(key) {}
  std::string str() const { return map_path_ + "." + std::string(key_); }
  friend std::string operator+(const EntryPath& path, std::string_view text) {
    return path.str() + std::string(text);
  }

 private:
  const std::string& map_path_;
  std::string_view key_;
};

inline Status readNumber(const msgpack::object& o, const EntryPath& path, double& out) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: out = o.via.f64; return Status::Ok();
    case msgpack::type::POSITIVE_INTEGER: out = static_cast<double>(o.via.u64); return Status::Ok();
    case msgpack::type::NEGATIVE_INTEGER: out = static_cast<double>(o.via.i64); return Status::Ok();
    default: return Status::InvalidArgument(path + ": expected number");
  }
}

class WireMap {
 public:
  static Result<WireMap> of(const msgpack::object& o, std::string path) {
    if (o.type != msgpack::type::MAP) return Status::InvalidArgument(path + ": expected map");
    return WireMap(o, std::move(path));
  }

  const std::string& path() const { return path_; }

  // The value of `key`, or nullptr when absent (the first one wins if a key repeats).
  const msgpack::object* find(std::string_view key) const {
    for (uint32_t i = 0; i < map_.via.map.size; ++i) {
      const auto& kv = map_.via.map.ptr[i];
      if (kv.key.type == msgpack::type::STR &&
          std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
        return &kv.val;
      }
    }
    return nullptr;
  }

  Status str(std::string_view key, std::string& out, bool required = false) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return absent(key, required);
    if (o->type != msgpack::type::STR) return wrongType(key, "string");
    out.assign(o->via.str.ptr, o->via.str.size);
    return Status::Ok();
  }

  Status bin(std::string_view key, std::string& out, bool required = false) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return absent(key, required);
    if (o->type != msgpack::type::BIN) return wrongType(key, "binary");
    out.assign(o->via.bin.ptr, o->via.bin.size);
    return Status::Ok();
  }

  Status boolean(std::string_view key, bool& out, bool required = false) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return absent(key, required);
    if (o->type != msgpack::type::BOOLEAN) return wrongType(key, "boolean");
    out = o->via.boolean;
    return Status::Ok();
  }

  template <class Int>
  Status integer(std::string_view key, Int& out, bool required = false) const {
    static_assert(std::is_integral_v<Int>);
    const msgpack::object* o = find(key);
    if (o == nullptr) return absent(key, required);
    if (o->type == msgpack::type::POSITIVE_INTEGER) {
      if (o->via.u64 > static_cast<uint64_t>(std::numeric_limits<Int>::max())) {
        return outOfRange(key);
      }
      out = static_cast<Int>(o->via.u64);
      return Status::Ok();
    }
    if (o->type == msgpack::type::NEGATIVE_INTEGER) {
      if constexpr (std::is_signed_v<Int>) {
        if (o->via.i64 < static_cast<int64_t>(std::numeric_limits<Int>::min())) {
          return outOfRange(key);
        }
        out = static_cast<Int>(o->via.i64);
        return Status::Ok();
      } else {
        return outOfRange(key);
      }
    }
    return wrongType(key, "integer");
  }

  // Calls fn(const WireMap&) on the map under `key`, if present.
  template <class Fn>
  Status nested(std::string_view key, Fn&& fn, bool required = false) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return absent(key, required);
    NOA_ASSIGN_OR_RETURN(WireMap inner, of(*o, childPath(key)));
    return fn(inner);
  }

  // Calls fn(const msgpack::object&, const std::string& path) for each element of the array
  // under `key`, if present.
  template <class Fn>
  Status eachArray(std::string_view key, Fn&& fn) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return Status::Ok();
    if (o->type != msgpack::type::ARRAY) return wrongType(key, "array");
    const std::string base = childPath(key);
    for (uint32_t i = 0; i < o->via.array.size; ++i) {
      NOA_RETURN_IF_ERROR(fn(o->via.array.ptr[i], base + "[" + std::to_string(i) + "]"));
    }
    return Status::Ok();
  }

  // Calls fn(std::string key, const msgpack::object& value, const EntryPath& path) for each
  // entry of the string-keyed map under `key`, if present, in wire order.
  template <class Fn>
  Status eachEntry(std::string_view key, Fn&& fn) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return Status::Ok();
    if (o->type != msgpack::type::MAP) return wrongType(key, "map");
    const std::string base = childPath(key);
    for (uint32_t i = 0; i < o->via.map.size; ++i) {
      const auto& kv = o->via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR) {
        return Status::InvalidArgument(base + ": keys must be strings");
      }
      const std::string_view entry_key(kv.key.via.str.ptr, kv.key.via.str.size);
      NOA_RETURN_IF_ERROR(fn(std::string(entry_key), kv.val, EntryPath(base, entry_key)));
    }
    return Status::Ok();
  }

 private:
  WireMap(const msgpack::object& map, std::string path) : map_(map), path_(std::move(path)) {}

  std::string childPath(std::string_view key) const { return path_ + "." + std::string(key); }
  Status absent(std::string_view key, bool required) const {
    return required ? Status::InvalidArgument(childPath(key) + ": required") : Status::Ok();
  }
  Status wrongType(std::string_view key, const char* expected) const {
    return Status::InvalidArgument(childPath(key) + ": expected " + expected);
  }
  Status outOfRange(std::string_view key) const {
    return Status::InvalidArgument(childPath(key) + ": integer out of range");
  }

  const msgpack::object& map_;
  std::string path_;
};

}  // namespace noa::protocol
