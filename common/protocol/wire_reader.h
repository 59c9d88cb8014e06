#pragma once

// Typed, zero-copy reading of a decoded MessagePack map: the protocol's compatibility rules
// (unknown keys ignored, missing optional keys keep their defaults, a present key of the wrong
// type is an error) in one place. Errors name the field path, e.g. "body.health.probes[2].state:
// expected string". Internal to the codec and the store's record encoding.

#include <cstdint>
#include <limits>
#include <msgpack.hpp>
#include <string>
#include <string_view>
#include <type_traits>

#include "common/status.h"

namespace noa::protocol {

inline constexpr bool kRequired = true;

class WireMap;

// Where a field is, for error messages: built only when one is needed, since a report's dozens
// of metrics and its probes would otherwise cost allocations on every decode. Either the entry
// `key` of a map (`owner` is that map), the entry `entry` of the map under `key` of `owner`, or
// element `index` of the array under `key` of `owner`.
class FieldPath {
 public:
  static FieldPath entry(const WireMap& owner, std::string_view key) {
    return FieldPath(owner, key, nullptr, -1);
  }
  // `entry` must outlive the path.
  static FieldPath entryOf(const WireMap& owner, std::string_view key,
                           const std::string_view& entry) {
    return FieldPath(owner, key, &entry, -1);
  }
  static FieldPath element(const WireMap& owner, std::string_view key, int64_t index) {
    return FieldPath(owner, key, nullptr, index);
  }
  inline std::string str() const;
  friend std::string operator+(const FieldPath& path, std::string_view text) {
    return path.str() + std::string(text);
  }

 private:
  FieldPath(const WireMap& owner, std::string_view key, const std::string_view* entry,
            int64_t index)
      : owner_(owner), key_(key), entry_(entry), index_(index) {}
  const WireMap& owner_;
  std::string_view key_;
  const std::string_view* entry_;  // null: not a map entry
  int64_t index_;                  // < 0: not an array element
};

inline Status readNumber(const msgpack::object& o, const FieldPath& path, double& out) {
  switch (o.type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      out = o.via.f64;
      return Status::Ok();
    case msgpack::type::POSITIVE_INTEGER:
      out = static_cast<double>(o.via.u64);
      return Status::Ok();
    case msgpack::type::NEGATIVE_INTEGER:
      out = static_cast<double>(o.via.i64);
      return Status::Ok();
    default:
      return Status::InvalidArgument(path + ": expected number");
  }
}

class WireMap {
 public:
  // A top-level map; `name` starts every error path ("envelope", "record").
  static Result<WireMap> of(const msgpack::object& o, std::string name) {
    if (o.type != msgpack::type::MAP) return Status::InvalidArgument(name + ": expected map");
    return WireMap(o, std::move(name));
  }
  // A map inside another one (found at `path`, which must outlive the result, as must the map
  // it names): its own path is built only for an error.
  static Result<WireMap> at(const msgpack::object& o, const FieldPath& path) {
    if (o.type != msgpack::type::MAP) return Status::InvalidArgument(path + ": expected map");
    return WireMap(o, &path);
  }

  std::string path() const { return parent_ != nullptr ? parent_->str() : name_; }

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
    const FieldPath path = FieldPath::entry(*this, key);
    NOA_ASSIGN_OR_RETURN(WireMap inner, at(*o, path));
    return fn(inner);
  }

  // Calls fn(const msgpack::object&, const FieldPath& path) for each element of the array
  // under `key`, if present.
  template <class Fn>
  Status eachArray(std::string_view key, Fn&& fn) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return Status::Ok();
    if (o->type != msgpack::type::ARRAY) return wrongType(key, "array");
    for (uint32_t i = 0; i < o->via.array.size; ++i) {
      NOA_RETURN_IF_ERROR(fn(o->via.array.ptr[i], FieldPath::element(*this, key, i)));
    }
    return Status::Ok();
  }

  // Calls fn(std::string_view key, const msgpack::object& value, const FieldPath& path) for
  // each entry of the string-keyed map under `key`, if present, in wire order.
  template <class Fn>
  Status eachEntry(std::string_view key, Fn&& fn) const {
    const msgpack::object* o = find(key);
    if (o == nullptr) return Status::Ok();
    if (o->type != msgpack::type::MAP) return wrongType(key, "map");
    for (uint32_t i = 0; i < o->via.map.size; ++i) {
      const auto& kv = o->via.map.ptr[i];
      if (kv.key.type != msgpack::type::STR) {
        return Status::InvalidArgument(childPath(key) + ": keys must be strings");
      }
      const std::string_view entry_key(kv.key.via.str.ptr, kv.key.via.str.size);
      NOA_RETURN_IF_ERROR(fn(entry_key, kv.val, FieldPath::entryOf(*this, key, entry_key)));
    }
    return Status::Ok();
  }

 private:
  WireMap(const msgpack::object& map, std::string name) : map_(map), name_(std::move(name)) {}
  WireMap(const msgpack::object& map, const FieldPath* parent) : map_(map), parent_(parent) {}

  std::string childPath(std::string_view key) const { return path() + "." + std::string(key); }
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
  const FieldPath* parent_ = nullptr;  // a nested map: where it is
  std::string name_;                   // a top-level map: its name
};

std::string FieldPath::str() const {
  std::string out = owner_.path() + "." + std::string(key_);
  if (entry_ != nullptr) out += "." + std::string(*entry_);
  if (index_ >= 0) out += "[" + std::to_string(index_) + "]";
  return out;
}

}  // namespace noa::protocol
