#include "controller/api/metrics_handler.h"

namespace noa::controller::api {

ApiResponse handleMetrics(const ApiContext& context, const ApiRequest& /*request*/) {
  ApiResponse res;
  res.content_type = kPrometheusContentType;
  res.body = context.state.metricsText();
  return res;
}

}  // namespace noa::controller::api
