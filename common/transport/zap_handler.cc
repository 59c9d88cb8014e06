#include "common/transport/zap_handler.h"

#include <vector>

#include "common/log.h"
#include "common/transport/curve_keys.h"

namespace noa::transport {

Result<std::unique_ptr<ZapHandler>> ZapHandler::start(zmq::context_t& context, ZapDecide decide) {
  try {
    zmq::socket_t socket(context, zmq::socket_type::rep);
    socket.set(zmq::sockopt::linger, 0);
    socket.bind(kZapEndpoint);
    return std::unique_ptr<ZapHandler>(new ZapHandler(std::move(socket), std::move(decide)));
  } catch (const zmq::error_t& e) {
    return Status::Unavailable(std::string("cannot bind the ZAP handler: ") + e.what());
  }
}

ZapHandler::ZapHandler(zmq::socket_t socket, ZapDecide decide)
    : socket_(std::move(socket)), decide_(std::move(decide)) {
  // The socket moves to the thread; nothing else touches it until join.
  thread_ = std::thread([this] { run(); });
}

ZapHandler::~ZapHandler() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  socket_.close();
}

void ZapHandler::run() {
  while (!stop_.load()) {
    try {
      zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
      // A short poll keeps stop prompt; handshakes are rare, so the wake-ups cost nothing.
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
      std::vector<zmq::message_t> frames;
      do {
        zmq::message_t part;
        if (!socket_.recv(part, zmq::recv_flags::none)) break;
        frames.push_back(std::move(part));
      } while (socket_.get(zmq::sockopt::rcvmore));
      answer(frames);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      if (e.num() == EINTR) continue;
      log::error("ZAP handler failed", {{"error", e.what()}});
      return;
    }
  }
}

void ZapHandler::answer(const std::vector<zmq::message_t>& request) {
  ++requests_;
  // RFC 27: version, request id, domain, address, identity, mechanism, credentials...
  const std::string version = request.size() > 0 ? request[0].to_string() : "";
  const std::string request_id = request.size() > 1 ? request[1].to_string() : "";
  ZapDecision decision;
  if (request.size() < 6 || version != "1.0") {
    decision.status_text = "malformed ZAP request";
  } else {
    ZapRequest req;
    req.domain = request[2].to_string();
    req.address = request[3].to_string();
    req.mechanism = request[5].to_string();
    if (req.mechanism == "CURVE" && request.size() >= 7 && request[6].size() == 32) {
      req.public_key = encodeKey(request[6].to_string_view());
      decision = decide_(req);
    } else {
      decision.status_text = "mechanism " + req.mechanism + " is not accepted";
    }
  }
  const std::string code = decision.allow ? "200" : "400";
  if (decision.status_text.empty()) decision.status_text = decision.allow ? "OK" : "denied";
  if (!decision.allow) decision.user_id.clear();
  socket_.send(zmq::buffer(std::string_view("1.0")), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(code), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(decision.status_text), zmq::send_flags::sndmore);
  socket_.send(zmq::buffer(decision.user_id), zmq::send_flags::sndmore);
  socket_.send(zmq::message_t(), zmq::send_flags::none);  // metadata: none
}

}  // namespace noa::transport
