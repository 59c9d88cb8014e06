#include "controller/security/channel_security.h"

#include <iostream>

#include "common/log.h"
#include "common/transport/curve_keys.h"

namespace noa::controller {

Result<ChannelSecurity> setUpChannelSecurity(const ChannelSecurityConfig& config, Store& store,
                                             Clock& clock, zmq::context_t& context,
                                             prometheus::Registry& prom) {
  ChannelSecurity out;
  out.metrics = std::make_unique<KeyMetrics>(prom);
  if (config.insecure_plaintext) {
    log::warn(
        "INSECURE: the agent channel runs in plaintext without key enrollment "
        "(--insecure-plaintext); any process that reaches it can pose as any agent. "
        "For local development only");
    return out;
  }
  bool created = false;
  auto pair = transport::loadOrCreateKeyPair(config.key_dir, kControllerKeyName, &created);
  if (!pair.ok()) return pair.status().withContext("controller key pair");
  const std::string public_file = config.key_dir + "/" + kControllerKeyName + ".pub";
  log::info(created ? "controller key pair created" : "controller key pair loaded",
            {{"public_key", pair->public_key},
             {"public_key_file", public_file},
             {"key_id", transport::keyIdOf(pair->public_key).value()}});
  if (config.auto_accept) {
    log::error(
        "--auto-accept is on: every unknown agent key is accepted for the agent id it "
        "claims. Never use it outside development");
  }
  KeyRegistryOptions options;
  options.max_pending_keys = config.max_pending_keys;
  options.auto_accept = config.auto_accept;
  options.allowlist_file = config.allowlist_file;
  NOA_ASSIGN_OR_RETURN(out.keys, KeyRegistry::open(store, clock, options, out.metrics.get()));
  KeyRegistry* keys = out.keys.get();
  NOA_ASSIGN_OR_RETURN(out.zap, transport::ZapHandler::start(context, [keys](const auto& req) {
                         return keys->authenticate(req);
                       }));
  out.public_key = pair->public_key;
  out.secret_ = pair->secret_key;
  return out;
}

int runKeygen(int argc, const char* const* argv) {
  po::options_description desc("noa-controller keygen flags");
  desc.add_options()("help,h", "print this help")(
      "key-dir", po::value<std::string>()->required(),
      "directory for controller.key (0600) and controller.pub");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << "usage: noa-controller keygen --key-dir DIR\n"
                   "Makes the controller's CURVE key pair unless DIR has one, and prints the\n"
                   "public key (agents need it: --controller-public-key).\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "noa-controller keygen: " << e.what() << "\n";
    return 1;
  }
  const std::string dir = vm["key-dir"].as<std::string>();
  bool created = false;
  auto pair = transport::loadOrCreateKeyPair(dir, kControllerKeyName, &created);
  if (!pair.ok()) {
    std::cerr << "noa-controller keygen: " << pair.status().message() << "\n";
    return 1;
  }
  std::cerr << (created ? "created " : "kept the existing ") << dir << "/" << kControllerKeyName
            << ".key; public key (" << dir << "/" << kControllerKeyName << ".pub):\n";
  std::cout << pair->public_key << "\n";
  return 0;
}

}  // namespace noa::controller
