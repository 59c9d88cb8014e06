#include "controller/store/batch_impl.h"
#include "controller/store/schema.h"

namespace noa::controller {

Store::Batch::Batch() : impl_(std::make_unique<Impl>()) {}
Store::Batch::~Batch() = default;
Store::Batch::Batch(Batch&&) noexcept = default;
Store::Batch& Store::Batch::operator=(Batch&&) noexcept = default;

void Store::Batch::putAgent(const AgentRecord& record) {
  put(Family::kAgents, record.hello.agent_id, encodeAgentRecord(record));
}

void Store::Batch::putKey(const KeyRecord& record) {
  put(Family::kKeys, record.key_id, encodeKeyRecord(record));
}

void Store::Batch::deleteAgent(const std::string& agent_id) { erase(Family::kAgents, agent_id); }

void Store::Batch::appendHistory(const std::string& agent_id, int64_t ts_ms, uint64_t seq,
                                 std::string_view envelope_bytes) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  // The key is written straight into the batch's buffer: no string of its own per report.
  const size_t before = impl_->bytes.size();
  schema::appendHistoryKey(impl_->bytes, agent_id, ts_ms, seq);
  const size_t key_size = impl_->bytes.size() - before;
  impl_->bytes.append(envelope_bytes);
  impl_->ops.push_back({BatchOp::Kind::kPut, Family::kHistory, key_size, envelope_bytes.size()});
}

void Store::Batch::put(Family family, std::string_view key, std::string_view value) {
  if (!impl_) impl_ = std::make_unique<Impl>();  // a moved-from batch is usable again
  impl_->bytes.append(key).append(value);
  impl_->ops.push_back({BatchOp::Kind::kPut, family, key.size(), value.size()});
}

void Store::Batch::erase(Family family, std::string_view key) {
  if (!impl_) impl_ = std::make_unique<Impl>();
  impl_->bytes.append(key);
  impl_->ops.push_back({BatchOp::Kind::kDelete, family, key.size(), 0});
}

size_t Store::Batch::size() const { return impl_ ? impl_->ops.size() : 0; }

}  // namespace noa::controller
