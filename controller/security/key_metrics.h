#pragma once

// Metrics of agent-key enrollment, declared once: noa_agent_keys{state},
// noa_zap_requests_total{result} (accepted | pending | new_pending | rejected | revoked |
// over_limit | error) and noa_agent_keys_auto_accept (1 while --auto-accept is on, a thing to
// alert on in production). Thread-safe (prometheus-cpp metrics are).

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <string_view>

#include "controller/store/key_record.h"

namespace noa::controller {

class KeyMetrics {
 public:
  explicit KeyMetrics(prometheus::Registry& registry);

  void setKeys(KeyState state, size_t count);
  void countZap(std::string_view result);
  void setAutoAccept(bool on);

  double zapForTest(std::string_view result);
  double keysForTest(KeyState state);

 private:
  prometheus::Family<prometheus::Gauge>& keys_;
  prometheus::Family<prometheus::Counter>& zap_;
  prometheus::Gauge& auto_accept_;
};

}  // namespace noa::controller
