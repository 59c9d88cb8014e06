#include "controller/store/schema.h"

namespace noa::controller::schema {

std::optional<Family> parseFamily(std::string_view name) {
  for (const auto& f : kFamilies) {
    if (f.name == name) return f.family;
  }
  return std::nullopt;
}

void appendBe64(std::string& out, uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t readBe64(std::string_view eight_bytes) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<uint8_t>(eight_bytes[i]);
  }
  return value;
}

std::string encodeHistoryKey(std::string_view agent_id, int64_t ts_ms, uint64_t seq) {
  std::string key;
  key.reserve(agent_id.size() + kHistorySuffixBytes);
  appendHistoryKey(key, agent_id, ts_ms, seq);
  return key;
}

void appendHistoryKey(std::string& out, std::string_view agent_id, int64_t ts_ms, uint64_t seq) {
  out.append(agent_id);
  out.push_back('\0');
  appendBe64(out, static_cast<uint64_t>(ts_ms < 0 ? 0 : ts_ms));
  appendBe64(out, seq);
}

std::string historyPrefix(std::string_view agent_id) {
  std::string prefix(agent_id);
  prefix.push_back('\0');
  return prefix;
}

std::string historyPrefixEnd(std::string_view agent_id) {
  std::string end(agent_id);
  end.push_back('\1');
  return end;
}

std::optional<HistoryKey> decodeHistoryKey(std::string_view key) {
  if (key.size() < kHistorySuffixBytes) return std::nullopt;
  const size_t id_size = key.size() - kHistorySuffixBytes;
  if (key[id_size] != '\0') return std::nullopt;
  const uint64_t ts = readBe64(key.substr(id_size + 1, 8));
  if (ts > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  HistoryKey out;
  out.agent_id.assign(key.substr(0, id_size));
  out.ts_ms = static_cast<int64_t>(ts);
  out.seq = readBe64(key.substr(id_size + 9, 8));
  return out;
}

}  // namespace noa::controller::schema
