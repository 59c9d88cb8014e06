#pragma once

// The controller's end of the agent channel: one ROUTER socket, bound, with the options the
// transport research settled on (reference/transport-storage-limits.md, section 5):
// ROUTER_MANDATORY (an unreachable agent is an error, not a silent drop), ROUTER_HANDOVER (a
// restarted agent replaces its half-open predecessor), a listen backlog for connect storms,
// a hard frame cap, bounded per-peer queues, and TCP keepalive (not ZMTP heartbeats) to close
// dead TCP peers: see RouterOptions.
// Not thread-safe: owned by the ingest thread.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "common/status.h"
#include "common/transport/wakeup.h"

namespace noa::transport {

struct RouterOptions {
  std::string bind_endpoint = "tcp://127.0.0.1:7701";
  int backlog = 1024;
  // Hard cap enforced by ZeroMQ (the peer is disconnected). The protocol's own, smaller limit
  // is checked after receive so oversized messages below this cap are counted and logged.
  int64_t max_frame_bytes = 256 * 1024;
  int receive_hwm = 100;  // per peer
  int send_hwm = 100;     // per peer
  // ZMTP heartbeats from the ROUTER: off (0) by default. libzmq 4.3 cancels a connection's
  // heartbeat-timeout timer on every message it receives, and cancel_timer() scans every timer
  // of the I/O thread: with N agents each report costs O(N), the fleet O(N^2) (half the
  // controller's CPU at 1,000 agents, tests/bench/README.md). The agents' acks already tell
  // both sides the other is alive; dead TCP peers are closed by TCP keepalive below.
  int heartbeat_interval_ms = 0;
  int heartbeat_timeout_ms = 0;
  int heartbeat_ttl_ms = 0;
  // Kernel TCP keepalive: a peer whose host vanished is closed after idle + count x interval.
  int tcp_keepalive_idle_s = 10;
  int tcp_keepalive_interval_s = 5;
  int tcp_keepalive_count = 3;
  // CURVE server secret key (Z85). Empty = plaintext (--insecure-plaintext). When set, the
  // socket is a CURVE server in ZAP domain `zap_domain`: a ZapHandler must already be bound in
  // the same context, or libzmq admits every client that knows the public key.
  std::string curve_secret_key;
  std::string zap_domain = "noa";
};

struct IncomingMessage {
  std::string peer;         // ZeroMQ routing id (= agent id for well-behaved agents)
  std::string payload;      // one frame
  size_t extra_frames = 0;  // > 0 means the peer sent a multi-frame message (malformed)
  // The User-Id the ZAP handler gave this connection (the key id); empty in plaintext.
  std::string user_id;
};

class RouterSocket {
 public:
  static Result<std::unique_ptr<RouterSocket>> bind(zmq::context_t& context,
                                                    const RouterOptions& options);

  // Waits up to `timeout` for one message; nullopt when none arrived, or at once when `wakeup`
  // (optional) is notified.
  Result<std::optional<IncomingMessage>> receive(std::chrono::milliseconds timeout,
                                                 const Wakeup* wakeup = nullptr);

  // Sends without blocking. NotFound when the peer is not connected (EHOSTUNREACH),
  // ResourceExhausted when its queue is full (EAGAIN).
  Status send(const std::string& peer, std::string_view payload);

  // The endpoint actually bound (resolves a port of 0 or '*').
  const std::string& endpoint() const { return endpoint_; }

 private:
  RouterSocket(zmq::socket_t socket, std::string endpoint, bool curve)
      : socket_(std::move(socket)), endpoint_(std::move(endpoint)), curve_(curve) {}

  zmq::socket_t socket_;
  std::string endpoint_;
  bool curve_ = false;
};

}  // namespace noa::transport
