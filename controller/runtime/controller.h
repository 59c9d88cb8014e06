#pragma once

#include "controller/runtime/controller_config.h"

namespace noa::controller {

// Exit codes of noa-controller.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBadConfig = 1;
inline constexpr int kExitStoreRefused = 2;
inline constexpr int kExitCannotListen = 3;

// Runs the controller until SIGTERM/SIGINT. Returns an exit code.
int runController(const ControllerConfig& config);

// `noa-controller repair --data-dir DIR`: RocksDB RepairDB on a store refused as corrupt.
int runRepair(int argc, const char* const* argv);

}  // namespace noa::controller
