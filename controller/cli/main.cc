// noactl: the command line of noa-controller's REST API (see controller/cli/commands.h).

#include <iostream>

#include "controller/cli/commands.h"

int main(int argc, char** argv) { return noa::cli::runCli(argc, argv, std::cout, std::cerr); }
