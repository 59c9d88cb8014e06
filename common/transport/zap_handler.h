#pragma once

// A ZAP handler (ZeroMQ RFC 27): the thread libzmq asks, during each CURVE handshake on a socket
// with a ZAP domain, whether the client's long-term public key may connect. It answers from a
// decision callback and can attach a User-Id, which every message of that connection then
// carries (IncomingMessage::user_id).
//
// Start it BEFORE binding the CURVE server socket in the same context: libzmq 4.3 lets every
// CURVE client in when no handler is bound at inproc://zeromq.zap.01.
//
// Requests for other mechanisms (NULL, PLAIN) are denied: the only socket with a ZAP domain is
// the CURVE server. Thread-safety: start/stop from one thread; the decision callback runs on
// the handler's thread and must be thread-safe against the rest of the program.

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "common/status.h"

namespace noa::transport {

inline constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";

struct ZapRequest {
  std::string domain;
  std::string address;     // the client's IP address
  std::string mechanism;   // "CURVE"
  std::string public_key;  // Z85 (empty for other mechanisms)
};

struct ZapDecision {
  bool allow = false;
  std::string user_id;      // attached to every message of an allowed connection
  std::string status_text;  // for libzmq's logs; never a secret
};

using ZapDecide = std::function<ZapDecision(const ZapRequest&)>;

class ZapHandler {
 public:
  // Binds the ZAP endpoint in `context` and starts the thread. Unavailable when the endpoint
  // is taken (another handler runs in this context).
  static Result<std::unique_ptr<ZapHandler>> start(zmq::context_t& context, ZapDecide decide);
  // Stops the thread and closes the socket (before the context goes).
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  uint64_t requestsForTest() const { return requests_.load(); }

 private:
  ZapHandler(zmq::socket_t socket, ZapDecide decide);
  void run();
  void answer(const std::vector<zmq::message_t>& request);

  zmq::socket_t socket_;
  ZapDecide decide_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> requests_{0};
  std::thread thread_;
};

}  // namespace noa::transport
