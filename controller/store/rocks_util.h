#pragma once

// Internal to the store: RocksDB options, column family descriptors, ownership of an open DB
// and the translation of rocksdb::Status into noa's Status with messages that say what to do.

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "controller/store/store.h"

namespace noa::controller::rocks {

// Modest settings: the controller runs on small machines and its data is small.
rocksdb::DBOptions dbOptions();
rocksdb::ColumnFamilyOptions familyOptions(std::string_view family_name);

// A descriptor for each name; known families get familyOptions(), unknown ones (added by a
// newer binary) RocksDB's defaults, which is what that binary's data needs least of us.
std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(const std::vector<std::string>& names);
// "default" and every family schema.h knows.
std::vector<std::string> knownFamilyNames();

// Owns an open DB and its column family handles; closes them in the order RocksDB requires.
class OpenDb {
 public:
  OpenDb() = default;
  ~OpenDb();
  OpenDb(const OpenDb&) = delete;
  OpenDb& operator=(const OpenDb&) = delete;

  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  // nullptr when the family is not open.
  rocksdb::ColumnFamilyHandle* family(std::string_view name) const;
};

// A status from opening the store at `path`: corruption and plain I/O failures say how to
// recover, a held lock says another controller probably runs on the directory.
Status openError(const rocksdb::Status& status, const std::string& path);
// A status from reading or writing an open store; `what` names the operation.
Status runtimeError(const rocksdb::Status& status, const std::string& path, std::string_view what);
// The recovery instructions shared by every "damaged store" message.
std::string recoveryHint(const std::string& path);

}  // namespace noa::controller::rocks
