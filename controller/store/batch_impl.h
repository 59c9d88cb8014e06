#pragma once

// Internal to the store: what a Store::Batch holds until commit. A batch is built before it
// meets a store (and RocksDB's WriteBatch needs the store's column family handles), so it keeps
// plain operations and the store translates them at commit.

#include <string>
#include <string_view>
#include <vector>

#include "controller/store/store.h"

namespace noa::controller {

struct BatchOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  Family family = Family::kMeta;
  size_t key_size = 0;
  size_t value_size = 0;
};

struct Store::Batch::Impl {
  std::vector<BatchOp> ops;
  // Each op's key then its value, in op order: one growing buffer instead of two strings per op
  // (a batch of 100 reports was 200 allocations of 20 B to 1.5 KB each).
  std::string bytes;

  // Calls fn(op, key, value) for each op in order.
  template <class Fn>
  void forEach(Fn&& fn) const {
    size_t offset = 0;
    const std::string_view all(bytes);
    for (const BatchOp& op : ops) {
      const std::string_view key = all.substr(offset, op.key_size);
      const std::string_view value = all.substr(offset + op.key_size, op.value_size);
      offset += op.key_size + op.value_size;
      fn(op, key, value);
    }
  }
};

}  // namespace noa::controller
