#include "controller/security/key_metrics.h"

#include <string>

namespace noa::controller {

KeyMetrics::KeyMetrics(prometheus::Registry& registry)
    : keys_(prometheus::BuildGauge()
                .Name("noa_agent_keys")
                .Help("Agent CURVE keys known to the controller, by enrollment state")
                .Register(registry)),
      zap_(prometheus::BuildCounter()
               .Name("noa_zap_requests_total")
               .Help("CURVE handshakes decided by the ZAP handler, by result")
               .Register(registry)),
      auto_accept_(prometheus::BuildGauge()
                       .Name("noa_agent_keys_auto_accept")
                       .Help("1 when unknown agent keys are accepted without an operator "
                             "(--auto-accept, development only)")
                       .Register(registry)
                       .Add({})) {
  for (KeyState s :
       {KeyState::kPending, KeyState::kAccepted, KeyState::kRejected, KeyState::kRevoked}) {
    keys_.Add({{"state", std::string(keyStateName(s))}});
  }
  for (const char* r :
       {"accepted", "pending", "new_pending", "rejected", "revoked", "over_limit"}) {
    zap_.Add({{"result", r}});
  }
}

void KeyMetrics::setKeys(KeyState state, size_t count) {
  keys_.Add({{"state", std::string(keyStateName(state))}}).Set(static_cast<double>(count));
}

void KeyMetrics::countZap(std::string_view result) {
  zap_.Add({{"result", std::string(result)}}).Increment();
}

void KeyMetrics::setAutoAccept(bool on) { auto_accept_.Set(on ? 1 : 0); }

double KeyMetrics::zapForTest(std::string_view result) {
  return zap_.Add({{"result", std::string(result)}}).Value();
}

double KeyMetrics::keysForTest(KeyState state) {
  return keys_.Add({{"state", std::string(keyStateName(state))}}).Value();
}

}  // namespace noa::controller
