#include "controller/store/json_record.h"

#include <cstdint>
#include <vector>

namespace noa::controller {

std::string encodeJsonRecord(nlohmann::json record, int version) {
  record["rv"] = version;
  const std::vector<uint8_t> bytes = nlohmann::json::to_msgpack(record);
  return std::string(bytes.begin(), bytes.end());
}

Result<nlohmann::json> decodeJsonRecord(std::string_view bytes, std::string_view what,
                                        int max_version) {
  const std::string prefix = std::string(what) + ": ";
  nlohmann::json j = nlohmann::json::from_msgpack(bytes.begin(), bytes.end(), /*strict=*/true,
                                                  /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(prefix + "not MessagePack");
  if (!j.is_object()) return Status::Corruption(prefix + "expected a map");
  auto rv = j.find("rv");
  if (rv == j.end() || !rv->is_number_integer()) {
    return Status::Corruption(prefix + "record.rv: required integer");
  }
  if (rv->get<int64_t>() > max_version) {
    return Status::Corruption(prefix + "version " + std::to_string(rv->get<int64_t>()) +
                              " is newer than this binary's " + std::to_string(max_version));
  }
  return j;
}

}  // namespace noa::controller
