// Store::open: decides whether the directory holds a new, an existing or a foreign store, checks
// the schema version before anything is written, and refuses every doubtful case with a message
// that says what to do. Nothing here deletes, moves or repairs a file.

#include "controller/store/store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <system_error>

#include "common/log.h"
#include "controller/store/rocks_store.h"
#include "controller/store/rocks_util.h"
#include "controller/store/schema.h"

namespace noa::controller {
namespace {

namespace fs = std::filesystem;

enum class DirState { kAbsent, kEmpty, kStore, kDamagedStore, kForeign };

bool isRocksFile(const std::string& name) {
  auto ends = [&name](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name.rfind("MANIFEST-", 0) == 0 || name.rfind("OPTIONS-", 0) == 0 || name == "IDENTITY" ||
         ends(".sst") || ends(".log") || ends(".blob");
}

Result<DirState> inspect(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return Status::IoError("cannot inspect the store directory " + path + ": " + ec.message());
  }
  if (!fs::exists(st)) return DirState::kAbsent;
  if (!fs::is_directory(st)) {
    return Status::FailedPrecondition("the store path " + path + " is not a directory");
  }
  if (fs::exists(fs::path(path) / "CURRENT", ec)) return DirState::kStore;
  bool rocks_files = false;
  bool other_files = false;
  fs::directory_iterator it(path, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == "lost+found") continue;  // the directory may be a volume's root
    (isRocksFile(name) ? rocks_files : other_files) = true;
  }
  if (ec) return Status::IoError("cannot list the store directory " + path + ": " + ec.message());
  if (rocks_files) return DirState::kDamagedStore;
  return other_files ? DirState::kForeign : DirState::kEmpty;
}

// The schema version in `meta`, or nullopt when none is written yet.
Result<std::optional<uint32_t>> readVersion(rocks::OpenDb& db, const std::string& path) {
  std::string value;
  rocksdb::Status s = db.db->Get({}, db.family(schema::familyName(Family::kMeta)),
                                 schema::kSchemaVersionKey, &value);
  if (s.IsNotFound()) return std::optional<uint32_t>();
  if (!s.ok()) return rocks::openError(s, path);
  uint32_t version = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size()) {
    return Status::FailedPrecondition("the store at " + path +
                                      " has an unreadable schema version '" + value +
                                      "'; nothing was changed");
  }
  return std::optional<uint32_t>(version);
}

Result<bool> isEmpty(rocks::OpenDb& db, const std::string& path) {
  for (auto* handle : db.handles) {
    std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator({}, handle));
    it->SeekToFirst();
    if (!it->status().ok()) return rocks::openError(it->status(), path);
    if (it->Valid()) return false;
  }
  return true;
}

// Checks an existing store without writing to it: a refused store stays exactly as it was.
// Returns whether the schema version still has to be written (creation was interrupted).
Result<bool> checkReadOnly(const std::string& path, const std::vector<std::string>& families) {
  auto db = std::make_unique<rocks::OpenDb>();
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(
      rocks::dbOptions(), path, rocks::descriptors(families), &db->handles, &db->db);
  if (!s.ok()) return rocks::openError(s, path);
  NOA_ASSIGN_OR_RETURN(std::optional<uint32_t> version, readVersion(*db, path));
  if (!version) {
    NOA_ASSIGN_OR_RETURN(bool empty, isEmpty(*db, path));
    if (empty) return true;
    return Status::FailedPrecondition("the store at " + path +
                                      " holds data but no schema version: it was not written by "
                                      "noa-controller. Nothing was changed");
  }
  if (*version != schema::kStoreSchemaVersion) {
    return Status::FailedPrecondition(
        "the store at " + path + " has schema version " + std::to_string(*version) +
        "; this noa-controller reads schema version " +
        std::to_string(schema::kStoreSchemaVersion) +
        ". Nothing was changed: run a noa-controller release that reads version " +
        std::to_string(*version) + " (schemas/store.md, \"Versioning\")");
  }
  return false;
}

// Every store of this schema version was created with all of schema::kFamilies, so a store
// that lacks some lost them: a truncated MANIFEST drops its latest records without an error.
// Adding the families here would hide that damage (and let RocksDB treat files the lost records
// named as obsolete), so only repairStore adds them back.
// Written beside the RocksDB files when a store is created. RocksDB reads a MANIFEST full of
// garbage as a database with only the default family, which would look exactly like someone
// else's database; the marker tells "our store, damaged" from "not ours".
constexpr char kMarkerFile[] = "NOA_STORE";

bool hasMarker(const std::string& path) {
  std::error_code ec;
  return fs::exists(fs::path(path) / kMarkerFile, ec);
}

Status writeMarker(const std::string& path) {
  const std::string file = (fs::path(path) / kMarkerFile).string();
  const std::string text = "noa-controller store, schema version " +
                           std::to_string(schema::kStoreSchemaVersion) + "; see schemas/store.md\n";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot write " + file + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Status::IoError("cannot write " + file + ": " + std::strerror(errno));
  return Status::Ok();
}

Status checkFamilies(const std::string& path, const std::vector<std::string>& families) {
  std::vector<std::string> missing;
  size_t missing_original = 0;
  for (const auto& f : schema::kFamilies) {
    if (std::find(families.begin(), families.end(), f.name) == families.end()) {
      missing.emplace_back(f.name);
      if (!f.added_later) ++missing_original;
    }
  }
  if (missing_original == 0) return Status::Ok();  // only later additions: openExisting adds them
  if (missing.size() == schema::kFamilies.size() && hasMarker(path)) {
    return Status::Corruption("the store at " + path +
                              " lists none of its column families: its MANIFEST is damaged. " +
                              rocks::recoveryHint(path));
  }
  if (missing.size() == schema::kFamilies.size()) {
    return Status::FailedPrecondition("the RocksDB database at " + path +
                                      " has none of noa's column families: it was not written by "
                                      "noa-controller. Nothing was changed");
  }
  std::string names;
  for (const auto& m : missing) {
    auto family = schema::parseFamily(m);
    if (family && schema::kFamilies[static_cast<size_t>(*family)].added_later) continue;
    names += (names.empty() ? "" : ", ") + m;
  }
  return Status::Corruption("the store at " + path + " lacks the column families " + names +
                            " that every schema-" + std::to_string(schema::kStoreSchemaVersion) +
                            " store has: it is damaged. " + rocks::recoveryHint(path));
}

Status writeVersion(rocks::OpenDb& db, const std::string& path) {
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status s =
      db.db->Put(options, db.family(schema::familyName(Family::kMeta)), schema::kSchemaVersionKey,
                 std::to_string(schema::kStoreSchemaVersion));
  return s.ok() ? Status::Ok() : rocks::runtimeError(s, path, "schema version write");
}

Result<std::unique_ptr<Store>> createStore(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Status::IoError("cannot create the store directory " + path + ": " + ec.message());
  rocksdb::DBOptions options = rocks::dbOptions();
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  auto db = std::make_unique<rocks::OpenDb>();
  rocksdb::Status s = rocksdb::DB::Open(
      options, path, rocks::descriptors(rocks::knownFamilyNames()), &db->handles, &db->db);
  if (!s.ok()) return rocks::openError(s, path);
  NOA_RETURN_IF_ERROR(writeVersion(*db, path));
  NOA_RETURN_IF_ERROR(writeMarker(path));
  log::info("store created", {{"path", path}, {"schema_version", schema::kStoreSchemaVersion}});
  return std::unique_ptr<Store>(std::make_unique<RocksStore>(path, std::move(db)));
}

Result<std::unique_ptr<Store>> openExisting(const std::string& path) {
  std::vector<std::string> families;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocks::dbOptions(), path, &families);
  if (!s.ok()) return rocks::openError(s, path);
  NOA_RETURN_IF_ERROR(checkFamilies(path, families));
  NOA_ASSIGN_OR_RETURN(bool needs_version, checkReadOnly(path, families));

  // Families added to the schema after this store was created (schema.h, added_later).
  std::vector<std::string> added;
  for (const auto& f : schema::kFamilies) {
    if (std::find(families.begin(), families.end(), f.name) == families.end()) {
      added.emplace_back(f.name);
    }
  }
  std::vector<std::string> all = families;
  all.insert(all.end(), added.begin(), added.end());
  rocksdb::DBOptions options = rocks::dbOptions();
  options.create_missing_column_families = !added.empty();
  auto db = std::make_unique<rocks::OpenDb>();
  s = rocksdb::DB::Open(options, path, rocks::descriptors(all), &db->handles, &db->db);
  if (!s.ok()) return rocks::openError(s, path);
  if (needs_version) NOA_RETURN_IF_ERROR(writeVersion(*db, path));
  if (!added.empty()) {
    log::info("store: added column families of this version",
              {{"path", path}, {"families", added}});
  }

  std::vector<std::string> unknown;
  for (const auto& name : families) {
    if (name != rocksdb::kDefaultColumnFamilyName && !schema::parseFamily(name)) {
      unknown.push_back(name);
    }
  }
  if (!unknown.empty()) {
    log::warn("store has column families this version does not know; keeping them",
              {{"path", path}, {"families", unknown}});
  }
  return std::unique_ptr<Store>(std::make_unique<RocksStore>(path, std::move(db)));
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  const std::string& path = options.path;
  if (path.empty()) return Status::InvalidArgument("the store path is empty");
  NOA_ASSIGN_OR_RETURN(DirState state, inspect(path));
  switch (state) {
    case DirState::kStore:
      return openExisting(path);
    case DirState::kAbsent:
    case DirState::kEmpty:
      if (!options.create_if_missing) return Status::NotFound("no store at " + path);
      return createStore(path);
    case DirState::kDamagedStore:
      return Status::Corruption("the store at " + path +
                                " is damaged (RocksDB files but no CURRENT file). " +
                                rocks::recoveryHint(path));
    case DirState::kForeign:
      return Status::FailedPrecondition(
          path +
          " is not empty and holds no store; nothing was changed. Give --data-dir an "
          "empty or new directory");
  }
  return Status::Internal("unreachable");
}

Result<std::vector<KeyRecord>> Store::loadKeys() const {
  NOA_ASSIGN_OR_RETURN(auto pairs, scan(Family::kKeys, "", std::numeric_limits<size_t>::max()));
  std::vector<KeyRecord> out;
  out.reserve(pairs.size());
  for (const auto& [key, value] : pairs) {
    auto record = decodeKeyRecord(value);
    if (!record.ok()) {
      return Status::Corruption("the record of key '" + key + "' in " + path() +
                                " is unreadable: " + record.status().message());
    }
    out.push_back(std::move(record).value());
  }
  return out;
}

Status repairStore(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return Status::NotFound("no store directory at " + path);
  // The known families are named so their options apply; families found in the files but not
  // named here are recovered with defaults rather than dropped.
  rocksdb::Status s =
      rocksdb::RepairDB(path, rocks::dbOptions(), rocks::descriptors(rocks::knownFamilyNames()),
                        rocksdb::ColumnFamilyOptions());
  if (!s.ok()) return rocks::runtimeError(s, path, "repair");
  // RepairDB rebuilds the families it finds data for; the empty ones come back here, empty, as
  // they were (open() refuses a store that lacks any).
  std::vector<std::string> families;
  s = rocksdb::DB::ListColumnFamilies(rocks::dbOptions(), path, &families);
  if (!s.ok()) return rocks::runtimeError(s, path, "listing families after repair");
  for (const auto& name : rocks::knownFamilyNames()) {
    if (std::find(families.begin(), families.end(), name) == families.end()) {
      families.push_back(name);
    }
  }
  rocksdb::DBOptions options = rocks::dbOptions();
  options.create_missing_column_families = true;
  {
    rocks::OpenDb db;
    s = rocksdb::DB::Open(options, path, rocks::descriptors(families), &db.handles, &db.db);
    if (!s.ok()) return rocks::runtimeError(s, path, "reopening after repair");
  }
  log::info("store repaired", {{"path", path}});
  return Status::Ok();
}

}  // namespace noa::controller
