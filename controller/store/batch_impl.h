#pragma once

// Internal to the store: what a Store::Batch holds until commit. A batch is built before it
// meets a store (and RocksDB's WriteBatch needs the store's column family handles), so it keeps
// plain operations and the store translates them at commit.

#include <string>
#include <vector>

#include "controller/store/store.h"

namespace noa::controller {

struct BatchOp {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  Family family = Family::kMeta;
  std::string key;
  std::string value;
};

struct Store::Batch::Impl {
  std::vector<BatchOp> ops;
};

}  // namespace noa::controller
