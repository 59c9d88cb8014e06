#pragma once

// The agent's end of the agent channel: one DEALER connected to the controller's ROUTER, with
// routing id = agent id (stable across reconnects). ZMQ_IMMEDIATE keeps messages out of pipes
// that are still connecting, and a small send queue means a stale report is never delivered
// long after the fact: the caller keeps only the newest (see agent Outbox).
// Not thread-safe: owned by the agent's session thread.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "common/status.h"
#include "common/transport/wakeup.h"

namespace noa::transport {

struct DealerOptions {
  std::string endpoint = "tcp://127.0.0.1:7701";
  std::string identity;  // the agent id
  int send_hwm = 10;
  int receive_hwm = 100;
  // libzmq adds up to reconnect_interval_ms of jitter and doubles the interval up to the max
  // while the controller refuses: 1 s keeps a restarted controller's fleet back within ~1.3 s
  // (issue 9's 2 s storm target) while a dead one gets one attempt per agent per second.
  int reconnect_interval_ms = 250;  // randomised by the caller
  int reconnect_interval_max_ms = 1000;
  // The agent's own ZMTP heartbeats detect a dead controller at the socket level. No TTL is
  // asked of the controller: a TTL makes the ROUTER re-arm a timer per received message,
  // which libzmq 4.3 cancels by scanning all timers (router_socket.h).
  int heartbeat_interval_ms = 1000;
  int heartbeat_timeout_ms = 3000;
  int heartbeat_ttl_ms = 0;
  int64_t max_frame_bytes = 256 * 1024;
  // CURVE (all Z85): the controller's public key and this agent's key pair. An empty
  // curve_server_key means plaintext (--insecure-plaintext).
  std::string curve_server_key;
  std::string curve_public_key;
  std::string curve_secret_key;
};

class DealerSocket {
 public:
  static Result<std::unique_ptr<DealerSocket>> connect(zmq::context_t& context,
                                                       const DealerOptions& options);

  // Sends without blocking; ResourceExhausted when not connected or the queue is full.
  Status send(std::string_view payload);

  // Waits up to `timeout` for one message; nullopt when none arrived, or at once when `wakeup`
  // (optional) is notified.
  Result<std::optional<std::string>> receive(std::chrono::milliseconds timeout,
                                             const Wakeup* wakeup = nullptr);

 private:
  explicit DealerSocket(zmq::socket_t socket) : socket_(std::move(socket)) {}
  zmq::socket_t socket_;
};

}  // namespace noa::transport
