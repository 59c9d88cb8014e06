#pragma once

// The REST API's own metrics, registered in the controller's Prometheus registry so /metrics
// shows them: noa_api_requests_total{route,code} counts every answered request (route is the
// route's template or "unmatched"), noa_api_rejected_total{reason} every 4xx, including
// requests cpp-httplib refused before routing (not HTTP at all, too large, ...).
// Thread-safe.

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <string_view>

namespace noa::controller::api {

class ApiMetrics {
 public:
  explicit ApiMetrics(prometheus::Registry& registry);

  // Counts the request, and a rejection when `code` is 4xx.
  void countRequest(std::string_view route, int code);

  double requestsForTest(std::string_view route, int code);
  double rejectedForTest(std::string_view reason);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& rejected_;
};

}  // namespace noa::controller::api
