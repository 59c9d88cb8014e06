#include "common/transport/dealer_socket.h"

namespace noa::transport {

Result<std::unique_ptr<DealerSocket>> DealerSocket::connect(zmq::context_t& context,
                                                            const DealerOptions& options) {
  if (options.identity.empty()) return Status::InvalidArgument("agent id must not be empty");
  try {
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::routing_id, options.identity);
    socket.set(zmq::sockopt::immediate, 1);
    socket.set(zmq::sockopt::sndhwm, options.send_hwm);
    socket.set(zmq::sockopt::rcvhwm, options.receive_hwm);
    socket.set(zmq::sockopt::reconnect_ivl, options.reconnect_interval_ms);
    socket.set(zmq::sockopt::reconnect_ivl_max, options.reconnect_interval_max_ms);
    socket.set(zmq::sockopt::heartbeat_ivl, options.heartbeat_interval_ms);
    socket.set(zmq::sockopt::heartbeat_timeout, options.heartbeat_timeout_ms);
    socket.set(zmq::sockopt::heartbeat_ttl, options.heartbeat_ttl_ms);
    socket.set(zmq::sockopt::maxmsgsize, options.max_frame_bytes);
    socket.set(zmq::sockopt::linger, 0);
    if (!options.curve_server_key.empty()) {
      socket.set(zmq::sockopt::curve_serverkey, options.curve_server_key);
      socket.set(zmq::sockopt::curve_publickey, options.curve_public_key);
      socket.set(zmq::sockopt::curve_secretkey, options.curve_secret_key);
    }
    socket.connect(options.endpoint);
    return std::unique_ptr<DealerSocket>(new DealerSocket(std::move(socket)));
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument("cannot connect to controller at " + options.endpoint + ": " +
                                   e.what());
  }
}

Status DealerSocket::send(std::string_view payload) {
  try {
    zmq::message_t body(payload.data(), payload.size());
    if (!socket_.send(body, zmq::send_flags::dontwait)) {
      return Status::ResourceExhausted("controller not connected or send queue full");
    }
    return Status::Ok();
  } catch (const zmq::error_t& e) {
    return Status::IoError(std::string("send to controller failed: ") + e.what());
  }
}

Result<std::optional<std::string>> DealerSocket::receive(std::chrono::milliseconds timeout,
                                                         const Wakeup* wakeup) {
  try {
    if (!waitReadable(socket_, timeout, wakeup)) return std::optional<std::string>();
    zmq::message_t msg;
    if (!socket_.recv(msg, zmq::recv_flags::dontwait)) return std::optional<std::string>();
    std::string payload = msg.to_string();
    // Drop any unexpected extra frames so the next receive starts at a message boundary.
    while (socket_.get(zmq::sockopt::rcvmore)) {
      zmq::message_t extra;
      if (!socket_.recv(extra, zmq::recv_flags::none)) break;
    }
    return std::optional<std::string>(std::move(payload));
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return std::optional<std::string>();
    return Status::IoError(std::string("receive from controller failed: ") + e.what());
  }
}

}  // namespace noa::transport
