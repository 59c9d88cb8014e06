#include "common/flags.h"

#include <cctype>
#include <fstream>
#include <sstream>

namespace noa {

std::string envNameForFlag(const std::string& flag) {
  std::string out = "NOA_";
  for (char c : flag) {
    out += (c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

void addCommonFlags(po::options_description& desc) {
  desc.add_options()("help,h", "print this help and exit")(
      "check-config", "validate the flags and environment, print the effective config, exit")(
      "log-level", po::value<std::string>()->default_value("info"),
      "debug | info | warn | error | off")(
      "config-file", po::value<std::string>(), "file of 'flag-name = value' lines");
}

Status parseFlags(int argc, const char* const* argv, const po::options_description& desc,
                  po::variables_map& vm, CommonFlags& common) {
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::store(po::parse_environment(desc,
                                    [&desc](const std::string& env) -> std::string {
                                      if (env.rfind("NOA_", 0) != 0) return "";
                                      for (const auto& opt : desc.options()) {
                                        if (envNameForFlag(opt->long_name()) == env) {
                                          return opt->long_name();
                                        }
                                      }
                                      return "";
                                    }),
              vm);
    if (vm.count("config-file")) {
      const std::string path = vm["config-file"].as<std::string>();
      std::ifstream in(path);
      if (!in) return Status::InvalidArgument("cannot read --config-file '" + path + "'");
      po::store(po::parse_config_file(in, desc, false), vm);
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return Status::InvalidArgument(e.what());
  }
  common.help = vm.count("help") > 0;
  common.check_config = vm.count("check-config") > 0;
  if (vm.count("log-level")) {
    auto level = log::parseLevel(vm["log-level"].as<std::string>());
    if (!level.ok()) return level.status().withContext("--log-level");
    common.log_level = *level;
  }
  return Status::Ok();
}

std::string usageText(const std::string& program, const std::string& summary,
                      const po::options_description& desc) {
  std::ostringstream out;
  out << "usage: " << program << " [flags]\n" << summary << "\n\n" << desc << "\n"
      << "Every flag --name can also be set as the environment variable NOA_NAME "
         "(dashes become underscores); the command line wins.\n";
  return out.str();
}

}  // namespace noa
