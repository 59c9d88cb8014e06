#include "controller/api/api_types.h"

namespace noa::controller::api {

std::optional<std::string> ApiRequest::queryParam(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string dumpJson(const nlohmann::json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiResponse jsonResponse(int status, const nlohmann::json& body) {
  ApiResponse res;
  res.status = status;
  res.content_type = kJsonContentType;
  res.body = dumpJson(body);
  return res;
}

}  // namespace noa::controller::api
