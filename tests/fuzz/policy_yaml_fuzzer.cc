// Fuzzes the policy-file readers the controller runs at start on --policy-file
// (controller_config.cc): the backups, failover and autoscale sections of one YAML text. Each
// must answer a Status; yaml-cpp's exceptions must not leave them (an uncaught exception
// aborts the fuzzer, which is the finding).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controller/autoscale/autoscale_policy.h"
#include "controller/backups/backup_policy.h"
#include "controller/failover/failover_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)noa::controller::backups::parsePolicyYaml(text);
  (void)noa::controller::failover::parseFailoverPolicies(text);
  (void)noa::controller::autoscale::parseAutoscalePolicies(text);
  return 0;
}
