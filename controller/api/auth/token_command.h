#pragma once

// `noa-controller token new --name NAME --role ROLE --tokens-file FILE`: makes a random token,
// appends its hash to FILE (created 0600) and prints the token once on stdout. The controller
// reads the file at start, so restart it (or start it) afterwards.

#include <iosfwd>

namespace noa::controller::api {

// argv[0] is "token". Returns 0 on success, 1 on a usage or file error (said on `err`).
int runTokenCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace noa::controller::api
