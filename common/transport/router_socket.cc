#include "common/transport/router_socket.h"

namespace noa::transport {

// The ZAP User-Id libzmq attaches to every frame of a CURVE connection ("" when none). Its own
// function so that tests/tsan.supp can name exactly this read: the metadata map belongs to the
// connection and is reference-counted by libzmq with atomics TSan cannot see, so the I/O
// thread's later delete of it looks like a race with this read although `part` holds a
// reference throughout. Not inlined, so the name stays in the stack.
namespace {
[[gnu::noinline]] std::string readZapUserId(zmq::message_t& part) {
  const char* user_id = zmq_msg_gets(part.handle(), "User-Id");
  return user_id != nullptr ? std::string(user_id) : std::string();
}
}  // namespace

Result<std::unique_ptr<RouterSocket>> RouterSocket::bind(zmq::context_t& context,
                                                         const RouterOptions& options) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::router);
    socket.set(zmq::sockopt::router_mandatory, 1);
    socket.set(zmq::sockopt::router_handover, 1);
    socket.set(zmq::sockopt::backlog, options.backlog);
    socket.set(zmq::sockopt::maxmsgsize, options.max_frame_bytes);
    socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
    socket.set(zmq::sockopt::sndhwm, options.send_hwm);
    socket.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_interval_ms);
    socket.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
    socket.set(zmq::sockopt::heartbeat_ttl, options.heartbeat_ttl_ms);
    if (options.tcp_keepalive_idle_s > 0) {
      socket.set(zmq::sockopt::tcp_keepalive, 1);
      socket.set(zmq::sockopt::tcp_keepalive_idle, options.tcp_keepalive_idle_s);
      socket.set(zmq::sockopt::tcp_keepalive_intvl, options.tcp_keepalive_interval_s);
      socket.set(zmq::sockopt::tcp_keepalive_cnt, options.tcp_keepalive_count);
    }
    socket.set(zmq::sockopt::linger, 0);
    const bool curve = !options.curve_secret_key.empty();
    if (curve) {
      socket.set(zmq::sockopt::curve_server, 1);
      socket.set(zmq::sockopt::curve_secretkey, options.curve_secret_key);
      socket.set(zmq::sockopt::zap_domain, options.zap_domain);
    }
    socket.bind(options.bind_endpoint);
    std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
    return std::unique_ptr<RouterSocket>(
        new RouterSocket(std::move(socket), std::move(endpoint), curve));
  } catch (const zmq::error_t& e) {
    return Status::Unavailable("cannot bind agent channel on " + options.bind_endpoint + ": " +
                               e.what());
  }
}

Result<std::optional<IncomingMessage>> RouterSocket::receive(std::chrono::milliseconds timeout,
                                                             const Wakeup* wakeup) {
  try {
    // A zero wait needs no poll: a non-blocking recv answers the same question, without the
    // poll(2) that zmq_poll makes every time (one per message of a drain, at thousands a second).
    const bool nothing_to_wait_for = timeout.count() <= 0 && wakeup == nullptr;
    if (!nothing_to_wait_for && !waitReadable(socket_, timeout, wakeup)) {
      return std::optional<IncomingMessage>();
    }
    zmq::message_t identity;
    if (!socket_.recv(identity, zmq::recv_flags::dontwait)) {
      return std::optional<IncomingMessage>();
    }
    IncomingMessage incoming;
    incoming.peer = identity.to_string();
    bool first = true;
    while (socket_.get(zmq::sockopt::rcvmore)) {
      zmq::message_t part;
      if (!socket_.recv(part, zmq::recv_flags::none)) break;
      if (first) {
        incoming.payload = part.to_string();
        // Per-connection metadata that libzmq attaches to every frame; cheap (a map lookup).
        if (curve_) incoming.user_id = readZapUserId(part);
        first = false;
      } else {
        ++incoming.extra_frames;
      }
    }
    return std::optional<IncomingMessage>(std::move(incoming));
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return std::optional<IncomingMessage>();
    return Status::IoError(std::string("agent channel receive failed: ") + e.what());
  }
}

Status RouterSocket::send(const std::string& peer, std::string_view payload) {
  try {
    zmq::message_t identity(peer.data(), peer.size());
    if (!socket_.send(identity, zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return Status::ResourceExhausted("send queue of agent '" + peer + "' is full");
    }
    zmq::message_t body(payload.data(), payload.size());
    if (!socket_.send(body, zmq::send_flags::dontwait)) {
      return Status::ResourceExhausted("send queue of agent '" + peer + "' is full");
    }
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) {
      return Status::NotFound("agent '" + peer + "' is not connected");
    }
    return Status::IoError("send to agent '" + peer + "' failed: " + e.what());
  }
}

}  // namespace noa::transport
