#pragma once

// Command-line parsing shared by every binary: each flag --foo-bar may also be set as the
// environment variable NOA_FOO_BAR (the command line wins). Adds --help, --check-config,
// --log-level and --config-file (a file of "name = value" lines, for long flag lists).

#include <boost/program_options.hpp>
#include <string>

#include "common/log.h"
#include "common/status.h"

namespace noa {

namespace po = boost::program_options;

struct CommonFlags {
  bool help = false;
  bool check_config = false;
  log::Level log_level = log::Level::kInfo;
};

// "foo-bar" -> "NOA_FOO_BAR".
std::string envNameForFlag(const std::string& flag);

// Adds the common flags to `desc`.
void addCommonFlags(po::options_description& desc);

// Parses argv, then NOA_* environment variables, then notifies. Unknown flags and bad values
// become an InvalidArgument whose message names the flag.
Status parseFlags(int argc, const char* const* argv, const po::options_description& desc,
                  po::variables_map& vm, CommonFlags& common);

// Prints "usage: <program> [flags]" plus the flag table, with the env-var rule.
std::string usageText(const std::string& program, const std::string& summary,
                      const po::options_description& desc);

}  // namespace noa
