#include "controller/store/rocks_util.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include "common/log.h"
#include "controller/store/schema.h"

namespace noa::controller::rocks {

rocksdb::DBOptions dbOptions() {
  rocksdb::DBOptions o;
  o.create_if_missing = false;  // Store::open decides what is new; RocksDB must not guess
  o.paranoid_checks = true;
  o.max_open_files = 256;
  o.max_background_jobs = 2;
  // All memtables together; the busy families' own sizes are in familyOptions().
  o.db_write_buffer_size = 160 << 20;
  // Rarely written families pin old WAL files until flushed; this forces those flushes. Above
  // the busy families' memtables, or it would flush them early too.
  o.max_total_wal_size = 256 << 20;
  // Every report envelope goes through the WAL; the kernel copy of it cost more than ZSTD does.
  o.wal_compression = rocksdb::kZSTD;
  o.keep_log_file_num = 4;
  o.max_log_file_size = 8 << 20;
  return o;
}

rocksdb::ColumnFamilyOptions familyOptions(std::string_view name) {
  static const std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(16 << 20);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions o;
  o.write_buffer_size = 4 << 20;
  o.max_write_buffer_number = 2;
  o.target_file_size_base = 16 << 20;
  o.max_bytes_for_level_base = 64 << 20;
  if (name == schema::familyName(Family::kAgents) || name == schema::familyName(Family::kHistory)) {
    // Written with every report (an agent's latest record is rewritten each time): with 4 MB
    // memtables a fleet of thousands flushed several times a second and compaction took a
    // quarter of the controller's CPU (tests/bench/README.md). 32 MB memtables absorb the
    // rewrites of `agents` in memory and make L0 files few and large; L1 sized to match.
    // Memory grows only with the data written (arena blocks), so a small fleet pays nothing.
    o.write_buffer_size = 32 << 20;
    o.max_write_buffer_number = 3;
    o.target_file_size_base = 32 << 20;
    o.max_bytes_for_level_base = 128 << 20;
  }
  if (name == schema::familyName(Family::kHistory)) {
    // An agent's reports repeat the same 40-odd metric names: a 64 KiB block holds dozens of
    // them and ZSTD finds the repeats, where snappy in 4 KiB blocks saw two reports at a time
    // (148 instead of 740 bytes per report, 5x less disk, the same controller CPU at 10,000
    // agents: tests/bench/README.md). History is read by range scans, which large blocks suit.
    table.block_size = 64 << 10;
    o.compression = rocksdb::kZSTD;
    // History is only ever read by range scans: a whole-key Bloom filter is never consulted,
    // only built (every key hashed at each flush and compaction) and cached.
    table.filter_policy.reset();
    // Compaction, mostly ZSTD recompressing history, costs more CPU than the ingest thread once
    // a few GB have been written (noa_ingest_core_bench --rounds 1500: 33-36 us per report vs
    // 26-28 with this). Level sizes follow the data from the last level up, which keeps the
    // write amplification near its minimum. Stores written before open with their files where
    // they are; compactions move them (RocksDB < 8.2 does not do it at open).
    o.level_compaction_dynamic_level_bytes = true;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

std::vector<std::string> knownFamilyNames() {
  std::vector<std::string> names{rocksdb::kDefaultColumnFamilyName};
  for (const auto& f : schema::kFamilies) names.emplace_back(f.name);
  return names;
}

std::vector<rocksdb::ColumnFamilyDescriptor> descriptors(const std::vector<std::string>& names) {
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (const auto& name : names) {
    const bool known = name == rocksdb::kDefaultColumnFamilyName || schema::parseFamily(name);
    out.emplace_back(name, known ? familyOptions(name) : rocksdb::ColumnFamilyOptions());
  }
  return out;
}

OpenDb::~OpenDb() {
  if (db == nullptr) return;
  for (auto* handle : handles) {
    rocksdb::Status s = db->DestroyColumnFamilyHandle(handle);
    if (!s.ok()) log::warn("store: column family handle not released", {{"error", s.ToString()}});
  }
  rocksdb::Status closed = db->Close();
  if (!closed.ok()) log::error("store did not close cleanly", {{"error", closed.ToString()}});
  delete db;
}

rocksdb::ColumnFamilyHandle* OpenDb::family(std::string_view name) const {
  for (auto* handle : handles) {
    if (handle->GetName() == name) return handle;
  }
  return nullptr;
}

std::string recoveryHint(const std::string& path) {
  return "Nothing was changed. To recover: stop noa-controller, copy " + path +
         " somewhere safe, then run `noa-controller repair --data-dir " + path +
         "` and start again (schemas/store.md, \"Recovery\")";
}

Status openError(const rocksdb::Status& status, const std::string& path) {
  const std::string detail = status.ToString();
  if (status.IsCorruption()) {
    return Status::Corruption("the store at " + path + " is damaged (" + detail + "). " +
                              recoveryHint(path));
  }
  // RocksDB names the LOCK file both when another process holds it and when this one does.
  if (status.IsIOError() && detail.find("/LOCK") != std::string::npos) {
    return Status::IoError("the store at " + path +
                           " is locked: another noa-controller probably runs on it (" + detail +
                           ")");
  }
  if (status.IsIOError() || status.IsPathNotFound()) {
    return Status::IoError(
        "cannot open the store at " + path + " (" + detail +
        "). If the directory is readable but its files are damaged: " + recoveryHint(path));
  }
  return Status::FailedPrecondition("cannot open the store at " + path + " (" + detail +
                                    "). Nothing was changed");
}

Status runtimeError(const rocksdb::Status& status, const std::string& path, std::string_view what) {
  std::string message =
      "store " + std::string(what) + " failed at " + path + ": " + status.ToString();
  if (status.IsCorruption()) return Status::Corruption(std::move(message));
  if (status.IsNoSpace()) return Status::ResourceExhausted(std::move(message));
  return Status::IoError(std::move(message));
}

}  // namespace noa::controller::rocks
