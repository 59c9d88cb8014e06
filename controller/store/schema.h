#pragma once

// The store's on-disk layout in one place: column family names, the schema version and the key
// encodings. schemas/store.md describes the same layout for people; change both together.
//
// A change that an older binary of the same schema version could misread (a key layout, a
// value's meaning) bumps kStoreSchemaVersion. Adding a family or an optional record field does
// not: older binaries keep families they do not know and ignore record keys they do not know.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "controller/store/store.h"

namespace noa::controller::schema {

inline constexpr uint32_t kStoreSchemaVersion = 1;

// Key in the `meta` family; the value is the version in decimal ASCII ("1").
inline constexpr std::string_view kSchemaVersionKey = "schema_version";

struct FamilyName {
  Family family;
  std::string_view name;
  // Added after schema-1 stores were first written: a store created by an older binary lacks
  // it, so open() creates it (empty) instead of calling the store damaged.
  bool added_later = false;
};

// Every family this binary knows, in `enum class Family` order. RocksDB's own "default" family
// also exists in every store and stays empty.
inline constexpr std::array<FamilyName, 9> kFamilies = {{
    {Family::kMeta, "meta"},
    {Family::kAgents, "agents"},
    {Family::kHistory, "history"},
    {Family::kCommands, "commands"},
    {Family::kDecisions, "decisions"},
    {Family::kBackups, "backups"},
    {Family::kDesired, "desired"},
    {Family::kAudit, "audit"},
    {Family::kKeys, "keys", true},
}};

constexpr std::string_view familyName(Family family) {
  return kFamilies[static_cast<size_t>(family)].name;
}
std::optional<Family> parseFamily(std::string_view name);

// ---- history keys: agent_id '\0' be64(ts_ms) be64(seq) ----
// Agent ids never contain NUL, so one agent's keys form a contiguous, time-ordered range.
// Negative times are stored as 0 (the key orders unsigned).

inline constexpr size_t kHistorySuffixBytes = 1 + 8 + 8;

struct HistoryKey {
  std::string agent_id;
  int64_t ts_ms = 0;
  uint64_t seq = 0;
  bool operator==(const HistoryKey&) const = default;
};

std::string encodeHistoryKey(std::string_view agent_id, int64_t ts_ms, uint64_t seq);
// The same key, appended to `out`.
void appendHistoryKey(std::string& out, std::string_view agent_id, int64_t ts_ms, uint64_t seq);
// All of one agent's history keys start with this.
std::string historyPrefix(std::string_view agent_id);
// The first key after every key of the agent (exclusive upper bound of its range).
std::string historyPrefixEnd(std::string_view agent_id);
// nullopt when `key` is not a history key.
std::optional<HistoryKey> decodeHistoryKey(std::string_view key);

// Big-endian fixed 64-bit integers (byte order = numeric order).
void appendBe64(std::string& out, uint64_t value);
uint64_t readBe64(std::string_view eight_bytes);

}  // namespace noa::controller::schema
