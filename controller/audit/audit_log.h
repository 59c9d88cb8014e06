#pragma once

// The audit log: who did what, when, and with what result — every mutating REST call (through
// the API's AuditSink hook) and every command sent to an agent. Stored in the store's `audit`
// family, newest first, synced to disk before record() returns (an operator investigating an
// incident must find the call that caused it even after a crash).
//
// Keys are be64(~ts_ms) be64(~seq): a prefix scan reads the newest entries first, and seq keeps
// two entries of the same millisecond apart, also across restarts (it continues from the newest
// stored entry). Values are JSON (schemas/store.md, "audit").
//
// Thread-safe: REST threads record concurrently.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "controller/api/audit_sink.h"
#include "controller/store/store.h"

namespace noa::controller {

struct AuditRecord {
  uint64_t seq = 0;
  api::AuditEntry entry;
};

class AuditLog final : public api::AuditSink {
 public:
  // `store` must outlive this. Reads the newest entry to continue its sequence.
  static Result<std::unique_ptr<AuditLog>> open(Store& store);

  // api::AuditSink. A store failure is logged at error level (with the entry, so it is not lost
  // from sight) and counted; the REST answer was already sent.
  void record(const api::AuditEntry& entry) override;

  // Newest first: entries with ts_ms >= since_ms, at most `limit`. Unreadable values are skipped
  // and counted, never fatal: one bad record must not hide the others.
  Result<std::vector<AuditRecord>> list(int64_t since_ms, size_t limit) const;

  uint64_t failedWrites() const { return failed_writes_.load(); }
  uint64_t skippedRecords() const { return skipped_records_.load(); }

 private:
  AuditLog(Store& store, uint64_t next_seq) : store_(store), next_seq_(next_seq) {}

  Store& store_;
  std::atomic<uint64_t> next_seq_;
  std::atomic<uint64_t> failed_writes_{0};
  mutable std::atomic<uint64_t> skipped_records_{0};
};

// The value encoding (exposed for tests and the store documentation).
std::string encodeAuditKey(int64_t ts_ms, uint64_t seq);
std::string encodeAuditValue(const api::AuditEntry& entry);
Result<api::AuditEntry> decodeAuditValue(std::string_view bytes);

}  // namespace noa::controller
