#pragma once

// noactl: parses the command line (flags also from NOA_* variables, see common/flags.h), calls
// the REST API and prints tables or the server's JSON. main.cc only calls runCli.
//
//   noactl [--controller URL] [--output table|json] [--timeout 5s] COMMAND [ARGS]
//
// Exit codes: 0 ok, 1 usage error, 2 controller unreachable, 3 HTTP error (or a degraded
// controller for `status`), 4 a response noactl cannot read, 5 a command that did not succeed
// (`run`, `backup` or `drill` with --wait: it failed, timed out or was cancelled).

#include <iosfwd>

#include "common/clock.h"

namespace noa::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitUnreachable = 2,
  kExitHttpError = 3,
  kExitBadResponse = 4,
  kExitCommandFailed = 5,
};

inline constexpr const char* kDefaultControllerUrl = "http://127.0.0.1:7700";

int runCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
           const Clock& clock = systemClock());

}  // namespace noa::cli
