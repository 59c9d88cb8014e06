#include "controller/decisions/decision_log.h"

#include <algorithm>
#include <cstdio>

#include "controller/store/json_record.h"

namespace noa::controller::decisions {
namespace {

constexpr int kRecordVersion = 1;
constexpr std::string_view kIdPrefix = "dc-";

std::string makeId(int64_t at_ms, uint32_t counter) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "dc-%013lld-%06u", static_cast<long long>(at_ms), counter);
  return buf;
}

bool sameHold(const DecisionRecord& a, const DecisionRecord& b) {
  return a.action == b.action && a.reason == b.reason;
}

bool matches(const DecisionRecord& r, const DecisionFilter& filter) {
  if (!filter.service.empty() && r.service != filter.service) return false;
  if (!filter.kind.empty() && r.kind != filter.kind) return false;
  return r.at_ms >= filter.since_ms;
}

}  // namespace

Result<std::unique_ptr<DecisionLog>> DecisionLog::open(Store& store, const Clock& clock,
                                                       DecisionLogOptions options) {
  std::unique_ptr<DecisionLog> log(new DecisionLog(store, clock, options));
  NOA_ASSIGN_OR_RETURN(auto rows, store.scan(Family::kDecisions, kIdPrefix, SIZE_MAX));
  for (auto& [key, value] : rows) {
    NOA_ASSIGN_OR_RETURN(nlohmann::json j, decodeJsonRecord(value, "decision " + key,
                                                            kRecordVersion));
    auto record = decisionFromJson(j);
    if (!record.ok()) return Status::Corruption("decision " + key + ": " + record.status().message());
    record->id = key;
    log->ids_.push_back(key);
    log->newest_[{record->service, record->kind}] = *record;
    log->last_ms_ = std::max(log->last_ms_, record->at_ms);
    log->recent_.push_back(std::move(*record));
    if (log->recent_.size() > options.memory_records) log->recent_.pop_front();
  }
  return log;
}

Result<AppendResult> DecisionLog::append(DecisionRecord record) {
  if (record.service.empty()) return Status::InvalidArgument("decision: service is required");
  if (record.kind.empty()) return Status::InvalidArgument("decision: kind is required");
  if (record.reason.empty()) return Status::InvalidArgument("decision: reason is required");
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now_ms = toUnixMillis(clock_.wallNow());
  if (record.at_ms == 0) record.at_ms = now_ms;
  auto newest = newest_.find({record.service, record.kind});
  if (newest != newest_.end() && sameHold(newest->second, record) &&
      record.at_ms - newest->second.at_ms < options_.repeat_interval_ms) {
    return AppendResult{newest->second, true};
  }
  // Ids stay in time order even if the wall clock steps back: never below the last one.
  const int64_t id_ms = std::max(record.at_ms, last_ms_);
  counter_ = id_ms == last_ms_ ? counter_ + 1 : 0;
  last_ms_ = id_ms;
  if (record.id.empty()) record.id = makeId(id_ms, counter_);

  Store::Batch batch;
  batch.put(Family::kDecisions, record.id, encodeJsonRecord(decisionToJson(record), kRecordVersion));
  size_t evict = ids_.size() + 1 > options_.max_records ? ids_.size() + 1 - options_.max_records : 0;
  for (size_t i = 0; i < evict; ++i) batch.erase(Family::kDecisions, ids_[i]);
  NOA_RETURN_IF_ERROR(store_.commit(batch, /*sync=*/false));

  ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(evict));
  ids_.push_back(record.id);
  newest_[{record.service, record.kind}] = record;
  recent_.push_back(record);
  if (recent_.size() > options_.memory_records) recent_.pop_front();
  return AppendResult{std::move(record), false};
}

Result<std::vector<DecisionRecord>> DecisionLog::list(const DecisionFilter& filter) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DecisionRecord> out;
  for (auto it = recent_.rbegin(); it != recent_.rend() && out.size() < filter.limit; ++it) {
    if (matches(*it, filter)) out.push_back(*it);
  }
  return out;
}

Result<std::optional<DecisionRecord>> DecisionLog::get(const std::string& id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = recent_.rbegin(); it != recent_.rend(); ++it) {
      if (it->id == id) return std::optional<DecisionRecord>(*it);
    }
  }
  NOA_ASSIGN_OR_RETURN(auto bytes, store_.get(Family::kDecisions, id));
  if (!bytes) return std::optional<DecisionRecord>();
  NOA_ASSIGN_OR_RETURN(nlohmann::json j, decodeJsonRecord(*bytes, "decision " + id, kRecordVersion));
  NOA_ASSIGN_OR_RETURN(DecisionRecord record, decisionFromJson(j));
  record.id = id;
  return std::optional<DecisionRecord>(std::move(record));
}

}  // namespace noa::controller::decisions
