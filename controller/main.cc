// noa-controller: the cluster service. See `noa-controller --help`.

#include <cstring>
#include <iostream>

#include "common/log.h"
#include "controller/api/auth/token_command.h"
#include "controller/runtime/controller.h"
#include "controller/security/channel_security.h"

int main(int argc, char** argv) {
  using namespace noa::controller;
  if (argc > 1 && std::strcmp(argv[1], "repair") == 0) return runRepair(argc - 1, argv + 1);
  if (argc > 1 && std::strcmp(argv[1], "keygen") == 0) return runKeygen(argc - 1, argv + 1);
  if (argc > 1 && std::strcmp(argv[1], "token") == 0) {
    return api::runTokenCommand(argc - 1, argv + 1, std::cout, std::cerr);
  }

  ControllerConfig config;
  noa::Status parsed = parseControllerConfig(argc, argv, config);
  if (!parsed.ok()) {
    std::cerr << "noa-controller: " << parsed.message() << "\nSee `noa-controller --help`.\n";
    return kExitBadConfig;
  }
  if (config.common.help) {
    std::cout << noa::usageText("noa-controller [repair | keygen | token new]",
                                "Keeps agent state, detects lost agents and serves the REST API.",
                                controllerFlags());
    return kExitOk;
  }
  if (config.common.check_config) {
    std::cout << toJson(config).dump(2) << "\nconfig ok\n";
    return kExitOk;
  }
  noa::log::init("controller", config.common.log_level);
  return runController(config);
}
