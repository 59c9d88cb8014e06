#include "controller/audit/audit_log.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/log.h"
#include "controller/store/schema.h"

namespace noa::controller {
namespace {

using nlohmann::json;

constexpr size_t kKeyBytes = 16;

// Newest first needs descending order: store the complement.
uint64_t complement(uint64_t value) { return ~value; }

struct KeyParts {
  int64_t ts_ms = 0;
  uint64_t seq = 0;
};

std::optional<KeyParts> decodeAuditKey(std::string_view key) {
  if (key.size() != kKeyBytes) return std::nullopt;
  KeyParts parts;
  parts.ts_ms = static_cast<int64_t>(complement(schema::readBe64(key.substr(0, 8))));
  parts.seq = complement(schema::readBe64(key.substr(8, 8)));
  return parts;
}

}  // namespace

std::string encodeAuditKey(int64_t ts_ms, uint64_t seq) {
  std::string key;
  key.reserve(kKeyBytes);
  schema::appendBe64(key, complement(static_cast<uint64_t>(std::max<int64_t>(ts_ms, 0))));
  schema::appendBe64(key, complement(seq));
  return key;
}

std::string encodeAuditValue(const api::AuditEntry& entry) {
  json value = {{"ts_ms", entry.ts_ms},   {"actor", entry.actor},   {"role", entry.role},
                {"method", entry.method}, {"path", entry.path},     {"route", entry.route},
                {"status", entry.status}, {"detail", entry.detail}, {"remote", entry.remote}};
  // Replace rather than throw on invalid UTF-8 (a path can carry anything a client sent).
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<api::AuditEntry> decodeAuditValue(std::string_view bytes) {
  json value = json::parse(bytes, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return Status::Corruption("audit record is not a JSON object");
  }
  api::AuditEntry entry;
  try {
    entry.ts_ms = value.at("ts_ms").get<int64_t>();
    entry.actor = value.value("actor", "");
    entry.role = value.value("role", "");
    entry.method = value.value("method", "");
    entry.path = value.value("path", "");
    entry.route = value.value("route", "");
    entry.status = value.value("status", 0);
    entry.detail = value.value("detail", "");
    entry.remote = value.value("remote", "");
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("audit record has a bad field: ") + e.what());
  }
  return entry;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(Store& store) {
  NOA_ASSIGN_OR_RETURN(auto newest, store.scan(Family::kAudit, "", 1));
  uint64_t next_seq = 1;
  if (!newest.empty()) {
    if (auto parts = decodeAuditKey(newest.front().first)) next_seq = parts->seq + 1;
  }
  return std::unique_ptr<AuditLog>(new AuditLog(store, next_seq));
}

void AuditLog::record(const api::AuditEntry& entry) {
  const uint64_t seq = next_seq_.fetch_add(1);
  Store::Batch batch;
  batch.put(Family::kAudit, encodeAuditKey(entry.ts_ms, seq), encodeAuditValue(entry));
  const log::Fields fields = {{"actor", entry.actor},   {"role", entry.role},
                              {"method", entry.method}, {"path", entry.path},
                              {"status", entry.status}, {"remote", entry.remote}};
  Status stored = store_.commit(batch, /*sync=*/true);
  if (!stored.ok()) {
    failed_writes_.fetch_add(1);
    log::Fields with_error = fields;
    with_error["error"] = stored.toString();
    log::error("audit entry not stored", with_error);
    return;
  }
  log::info("audit", fields);
}

Result<std::vector<AuditRecord>> AuditLog::list(int64_t since_ms, size_t limit) const {
  std::vector<AuditRecord> out;
  // Newest first, so everything older than since_ms comes after what we want: scan in pages
  // until the page reaches past since_ms or the family ends.
  size_t page = std::max<size_t>(limit, 64);
  while (true) {
    NOA_ASSIGN_OR_RETURN(auto rows, store_.scan(Family::kAudit, "", page));
    out.clear();
    bool reached_older = false;
    for (const auto& [key, value] : rows) {
      auto parts = decodeAuditKey(key);
      if (!parts) {
        skipped_records_.fetch_add(1);
        continue;
      }
      if (parts->ts_ms < since_ms) {
        reached_older = true;
        break;
      }
      auto entry = decodeAuditValue(value);
      if (!entry.ok()) {
        skipped_records_.fetch_add(1);
        continue;
      }
      if (out.size() < limit) out.push_back({parts->seq, std::move(entry).value()});
    }
    if (reached_older || rows.size() < page || out.size() >= limit) return out;
    page *= 4;  // the window holds only unreadable rows so far; widen it
  }
}

}  // namespace noa::controller
