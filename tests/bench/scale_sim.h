#pragma once
// One simulated-agent process of noa_scale_bench (`noa_scale_bench sim ...`): up to ~1000
// CURVE DEALERs (or raw ZMTP+CURVE clients, SimOptions::raw_zmtp) on one thread (one ZeroMQ context each process, ZMQ_MAX_SOCKETS raised), each
// an agent as the real one behaves on the wire: hello until welcomed, a 40-metric report every
// interval (random phase), hello again on `hello_required`, and commands answered with
// progress{accepted}, progress{running} and result{succeeded}. Progress goes to SimShared.

#include <string>
#include <vector>

namespace noa::bench {

struct SimOptions {
  std::string shared_path;
  std::string keys_path;  // lines "agent_id public secret" (Z85), one per agent index
  int first = 0;
  int count = 0;
  std::string endpoint;
  std::string server_key;  // Z85; empty = plaintext
  double rate = 1;         // reports per agent per second; 0 = next one as soon as acked
  unsigned seed = 1;
  // What the agents say they are in hello. Services of 10 agents each: `redis` or `postgres`
  // make every service a failover group (the failover coordinator then works every tick).
  std::string kind = "http";
  int service_size = 10;  // agents per service ("benchsvc-<index / service_size>")
  // With CURVE: speak ZMTP 3.1 + CURVE directly (zmtp_curve_client.h, ~6 us of CPU per message)
  // instead of through one libzmq DEALER per agent (~80 us per report at 10,000 agents, so the
  // generator would need more than the controller's own cores). Same bytes on the wire.
  bool raw_zmtp = true;
};

// argv after "sim"; returns the process exit code.
int simMain(const std::vector<std::string>& args);
std::vector<std::string> simArgs(const SimOptions& options);

}  // namespace noa::bench
