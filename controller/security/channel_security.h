#pragma once

// Sets up the agent channel's security for noa-controller: the controller's key pair (made on
// first start), the KeyRegistry, and the ZAP handler, bound before the ROUTER socket is. With
// --insecure-plaintext it sets up nothing and warns, on every start.
//
// Logs carry the controller's PUBLIC key and where it lives; never the secret.

#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <zmq.hpp>

#include "common/clock.h"
#include "common/transport/router_socket.h"
#include "common/transport/zap_handler.h"
#include "controller/security/channel_security_config.h"
#include "controller/security/key_metrics.h"
#include "controller/security/key_registry.h"

namespace noa::controller {

struct ChannelSecurity {
  std::unique_ptr<KeyMetrics> metrics;
  std::unique_ptr<KeyRegistry> keys;  // null with --insecure-plaintext
  // Declared after `keys`, so it stops (its thread calls keys) before keys goes.
  std::unique_ptr<transport::ZapHandler> zap;
  std::string public_key;  // the controller's (Z85); empty with --insecure-plaintext

  // Sets curve_secret_key on the router options (nothing in plaintext).
  void configure(transport::RouterOptions& options) const { options.curve_secret_key = secret_; }

 private:
  friend Result<ChannelSecurity> setUpChannelSecurity(const ChannelSecurityConfig&, Store&, Clock&,
                                                      zmq::context_t&, prometheus::Registry&);
  std::string secret_;
};

// REQUIRES: called before the ROUTER socket is bound in `context`. Errors are start-up errors:
// the key file (PermissionDenied when group/other can read it, InvalidArgument, IoError), the
// store's keys, the allowlist file (FILE:LINE), the ZAP endpoint.
Result<ChannelSecurity> setUpChannelSecurity(const ChannelSecurityConfig& config, Store& store,
                                             Clock& clock, zmq::context_t& context,
                                             prometheus::Registry& prom);

// `noa-controller keygen --key-dir DIR`: makes the controller's key pair if there is none and
// prints the public key (also when it existed). Returns an exit code.
int runKeygen(int argc, const char* const* argv);

}  // namespace noa::controller
