#include "controller/api/api_metrics.h"

#include <string>

#include "controller/api/problem.h"

namespace noa::controller::api {

ApiMetrics::ApiMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("noa_api_requests_total")
                    .Help("REST requests answered, by route template and status code")
                    .Register(registry)),
      rejected_(prometheus::BuildCounter()
                    .Name("noa_api_rejected_total")
                    .Help("REST requests rejected with a 4xx, by reason")
                    .Register(registry)) {}

void ApiMetrics::countRequest(std::string_view route, int code) {
  requests_.Add({{"route", std::string(route)}, {"code", std::to_string(code)}}).Increment();
  if (code >= 400 && code < 500) {
    rejected_.Add({{"reason", std::string(rejectReason(code))}}).Increment();
  }
}

double ApiMetrics::requestsForTest(std::string_view route, int code) {
  return requests_.Add({{"route", std::string(route)}, {"code", std::to_string(code)}}).Value();
}

double ApiMetrics::rejectedForTest(std::string_view reason) {
  return rejected_.Add({{"reason", std::string(reason)}}).Value();
}

}  // namespace noa::controller::api
