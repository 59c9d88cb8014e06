#pragma once

// GET /metrics: the controller's Prometheus registry in text exposition format 0.0.4.

#include "controller/api/api_types.h"

namespace noa::controller::api {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

ApiResponse handleMetrics(const ApiContext& context, const ApiRequest& request);

}  // namespace noa::controller::api
