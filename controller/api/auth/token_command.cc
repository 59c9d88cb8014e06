#include "controller/api/auth/token_command.h"

#include <boost/program_options.hpp>
#include <ostream>

#include "controller/api/auth/token_file.h"

namespace noa::controller::api {

namespace po = boost::program_options;

int runTokenCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  po::options_description desc("noa-controller token new flags");
  desc.add_options()("help,h", "print this help")("name", po::value<std::string>(),
                                                  "who the token is for (audit trail, logs)")(
      "role", po::value<std::string>(), "viewer | operator | admin")(
      "tokens-file", po::value<std::string>(), "the controller's --api-tokens-file");
  const char* usage =
      "usage: noa-controller token new --name NAME --role viewer|operator|admin "
      "--tokens-file FILE\n"
      "Creates a random token, appends its SHA-256 to FILE and prints the token once.\n";
  if (argc < 2 || std::string(argv[1]) != "new") {
    err << "noa-controller token: expected 'new'\n" << usage;
    return 1;
  }
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc - 1, argv + 1, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "noa-controller token new: " << e.what() << "\n" << usage;
    return 1;
  }
  if (vm.count("help")) {
    out << usage << desc;
    return 0;
  }
  for (const char* required : {"name", "role", "tokens-file"}) {
    if (!vm.count(required)) {
      err << "noa-controller token new: --" << required << " is required\n" << usage;
      return 1;
    }
  }
  auto role = parseTokenRole(vm["role"].as<std::string>());
  if (!role.ok()) {
    err << "noa-controller token new: --role: " << role.status().message() << "\n";
    return 1;
  }
  auto token = generateToken();
  if (!token.ok()) {
    err << "noa-controller token new: " << token.status().message() << "\n";
    return 1;
  }
  Status appended = appendStaticToken(vm["tokens-file"].as<std::string>(),
                                      vm["name"].as<std::string>(), *role, *token);
  if (!appended.ok()) {
    err << "noa-controller token new: " << appended.message() << "\n";
    return 1;
  }
  out << *token << "\n";
  err << "token '" << vm["name"].as<std::string>() << "' (" << roleName(*role)
      << ") added; it is shown only now. Restart noa-controller to load it.\n";
  return 0;
}

}  // namespace noa::controller::api
